// The OpenAPI 3 document of the API, generated into the binary from
// src/openapi.json at build time (see CMakeLists.txt), so that the document
// and the server ship together.
#include "routes.hpp"

namespace signals::http {

extern const char kOpenApiJson[];

const std::string& OpenApiDocument() {
  static const std::string kDocument(kOpenApiJson);
  return kDocument;
}

}  // namespace signals::http
