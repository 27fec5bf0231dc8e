#pragma once
// Scraping a /metrics endpoint the way Prometheus would: a real HTTP client
// (curl) and the exposition's lines picked apart by name and labels.

#include <catch2/catch.hpp>

#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace strata::test {

/// What curl fetched from http://<address>/metrics (fails the test when curl does).
inline std::string scrape(const std::string& address) {
  std::string command = "curl -sS --fail --max-time 10 http://" + address + "/metrics 2>&1";
  std::string out;
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    char buffer[4096];
    for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
    if (::pclose(pipe) != 0) FAIL("curl failed: " << out);
  }
  return out;
}

/// "# TYPE name type" lines of an exposition: name -> type.
inline std::map<std::string, std::string> types_of(const std::string& text) {
  std::map<std::string, std::string> types;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.starts_with("# TYPE ")) {
      auto rest = line.substr(7);
      auto space = rest.find(' ');
      types[rest.substr(0, space)] = rest.substr(space + 1);
    }
  return types;
}

/// One sample line: `name{labels} value`.
struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  std::string value;
};

/// The samples of an exposition (label values without escapes, which these tests never need).
inline std::vector<Sample> samples_of(const std::string& text) {
  std::vector<Sample> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line.starts_with("#")) continue;
    Sample s;
    auto brace = line.find('{');
    auto space = line.rfind(' ');
    if (space == std::string::npos) continue;
    s.value = line.substr(space + 1);
    if (brace == std::string::npos || brace > space) {
      s.name = line.substr(0, space);
    } else {
      s.name = line.substr(0, brace);
      auto close = line.rfind('}', space);
      std::string labels = line.substr(brace + 1, close - brace - 1);
      for (std::size_t at = 0; at < labels.size();) {
        auto equals = labels.find("=\"", at);
        auto end = labels.find('"', equals + 2);
        if (equals == std::string::npos || end == std::string::npos) break;
        s.labels[labels.substr(at, equals - at)] = labels.substr(equals + 2, end - equals - 2);
        at = end + 2;  // past `",`
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace strata::test
