// libstrata-test-gone.so: a dependency that is built but not findable at run time.
extern "C" __attribute__((visibility("default"))) int strata_test_gone_function() { return 42; }
