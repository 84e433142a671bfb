// The one main() of micro_bench. Every other file in bench/ only registers
// benchmarks, so that any number of them can be linked together.
#include <benchmark/benchmark.h>

BENCHMARK_MAIN();
