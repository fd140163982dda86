// The route table and /openapi.json describe the same API: every row of the
// table is an operation of the document and every operation of the document
// is a row of the table.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>

#include "routes.hpp"

namespace signals::http {
namespace {

using Operation = std::pair<std::string, std::string>;  // (METHOD, path template)

std::set<Operation> OpenApiOperations() {
  auto doc = nlohmann::json::parse(OpenApiDocument());
  std::set<Operation> out;
  for (const auto& [path, item] : doc.at("paths").items()) {
    for (const auto& [method, operation] : item.items()) {
      if (method == "parameters") continue;
      std::string upper = method;
      std::transform(upper.begin(), upper.end(), upper.begin(),
                     [](unsigned char c) { return std::toupper(c); });
      out.emplace(upper, path);
    }
  }
  return out;
}

TEST(RouteTableTest, EveryRouteIsAnOperationOfTheOpenApiDocument) {
  const auto documented = OpenApiOperations();
  for (const auto& route : Routes::Table()) {
    EXPECT_TRUE(documented.count(route)) << route.first << " " << route.second << " is not in /openapi.json";
  }
}

TEST(RouteTableTest, EveryOperationOfTheOpenApiDocumentIsARoute) {
  const auto table = Routes::Table();
  const std::set<Operation> routes(table.begin(), table.end());
  for (const auto& operation : OpenApiOperations()) {
    EXPECT_TRUE(routes.count(operation)) << operation.first << " " << operation.second << " has no route";
  }
  EXPECT_EQ(routes.size(), table.size()) << "a route is listed twice";
}

}  // namespace
}  // namespace signals::http
