# Turns a text file into a C++ source defining `const char <SYMBOL>[]` in
# namespace <NAMESPACE>: cmake -DINPUT=f -DOUTPUT=f.cpp -DSYMBOL=k -DNAMESPACE=ns -P embed_text.cmake
file(READ "${INPUT}" content)
set(delimiter "signals_embed")
file(WRITE "${OUTPUT}" "namespace ${NAMESPACE} {\nextern const char ${SYMBOL}[];\nconst char ${SYMBOL}[] = R\"${delimiter}(${content})${delimiter}\";\n}\n")
