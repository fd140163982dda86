# Turns a text file into a C++ source defining `const char <symbol>[]`.
file(READ "${INPUT}" content)
set(delimiter "signals_embed")
file(WRITE "${OUTPUT}" "namespace signals::http {\nextern const char ${SYMBOL}[];\nconst char ${SYMBOL}[] = R\"${delimiter}(${content})${delimiter}\";\n}\n")
