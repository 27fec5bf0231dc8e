#pragma once
// Catch2 v2 (Debian's, catch2/catch.hpp) or v3, whichever the integrator has.
#if __has_include(<catch2/catch_test_macros.hpp>)
#include <catch2/catch_test_macros.hpp>
#include <catch2/catch_tostring.hpp>
#include <catch2/catch_translate_exception.hpp>
#else
#include <catch2/catch.hpp>
#endif
