#!/usr/bin/env bash
# Checks and times fdcmdie's CPU kernels on another x86-64 machine, one that
# need not have Go (a lent GPU machine's host, say), in one run:
#
#   tools/cpucheck.sh build      # here, with Go: test binaries into .dev/
#   tools/cpucheck.sh run        # there, in a copy of the repository with .dev/
#
# run prints the CPU and its AVX-512 flags; runs package sgemm's tests (the
# AVX-512 kernel against the AVX2 one where the CPU has AVX-512F) and stops
# if they fail; runs TestSameBitsOnEveryMachine with the AVX-512 kernel and
# without it (GODEBUG=cpu.avx512f=off); times the sgemm kernels on one core
# and on two; times the paper preset's training step on two cores with and
# without AVX-512, twice, and on all CPUs; then tools/speed_ratio.py on two
# cores (PY, default python3, must have torch) and the NeoBERT fine-tuning
# pass on both sides. STEPS (default 3) is the timed steps per benchmark;
# ROUNDS (default 3) the alternating Go and PyTorch runs of each
# speed_ratio row, whose median ratio stands up to shared CPUs' drift.
# Logs go to $OUT (default /tmp/cpucheck) as well as to the terminal.
set -u
cd "$(dirname "$0")/.." || exit
R=$PWD

build() {
	mkdir -p .dev
	go test -c -ldflags='-s -w' -o .dev/sgemm.test ./layers/sgemm &&
		go test -c -ldflags='-s -w' -o .dev/train.test ./train &&
		go test -c -ldflags='-s -w' -o .dev/layers.test ./layers &&
		ls -l .dev
}

run() {
	local out=${OUT:-/tmp/cpucheck} py=${PY:-python3} steps=${STEPS:-3} rounds=${ROUNDS:-3}
	mkdir -p "$out"
	exec > >(tee "$out/log.txt") 2>&1
	date -u
	lscpu | grep -E "Model name|^CPU\(s\)|Thread|Core\(s\)|Socket|L2|L3"
	echo "AVX-512/AMX flags: $(grep -o -w 'avx512[a-z_0-9]*\|amx[a-z_0-9]*' /proc/cpuinfo | sort -u | tr '\n' ' ')"
	local pair
	pair=$(lscpu -p=CPU,CORE | grep -v '^#' | awk -F, '!seen[$2]++{print $1}' | head -2 | paste -sd,)
	[ -n "$pair" ] || pair=0,1
	echo "two CPUs on distinct cores: $pair"

	echo "== sgemm tests"
	(cd layers/sgemm && "$R/.dev/sgemm.test" -test.count 1 -test.v >"$out/sgemm_tests.txt" 2>&1)
	local rc=$?
	grep -E "^(--- |ok|PASS|FAIL|panic)|SIGILL" "$out/sgemm_tests.txt" | grep -v "^    --- PASS"
	[ $rc -eq 0 ] || { tail -30 "$out/sgemm_tests.txt"; exit 1; }

	echo "== recorded training bits, with AVX-512 (where the CPU has it) and without"
	(cd train && "$R/.dev/train.test" -test.run 'SameBitsOnEveryMachine' -test.count 1 -test.v | grep -E "^(---|ok|FAIL)|recorded|skip")
	(cd train && GODEBUG=cpu.avx512f=off "$R/.dev/train.test" -test.run 'SameBitsOnEveryMachine' -test.count 1 -test.v | grep -E "^(---|ok|FAIL)|recorded|skip")

	echo "== sgemm kernels, GFLOP/s, one core then two"
	(cd layers/sgemm &&
		taskset -c "${pair%%,*}" "$R/.dev/sgemm.test" -test.run '^$' -test.bench BenchmarkKernels -test.benchtime 0.3s -test.cpu 1 | awk '/GFLOP/ {print $1, $(NF-1)}' &&
		taskset -c "$pair" "$R/.dev/sgemm.test" -test.run '^$' -test.bench BenchmarkKernels -test.benchtime 0.3s -test.cpu 2 | awk '/GFLOP/ {print $1, $(NF-1)}')

	echo "== paper training step on two cores: AVX-512, AVX2, AVX-512, AVX2; then all CPUs"
	local g
	for g in "" cpu.avx512f=off "" cpu.avx512f=off; do
		echo "GODEBUG=$g"
		(cd train && GODEBUG=$g taskset -c "$pair" "$R/.dev/train.test" -test.run '^$' -test.bench '^BenchmarkTrainStep$/^paper$' -test.benchtime "${steps}x" | grep samples)
	done
	(cd train && "$R/.dev/train.test" -test.run '^$' -test.bench '^BenchmarkTrainStep$/^paper$' -test.benchtime "${steps}x" | grep samples)

	echo "== speed_ratio on two cores"
	taskset -c "$pair" "$py" tools/speed_ratio.py --rows small,paper,paper-infer --steps "$steps" --rounds "$rounds" --go-test .dev/train.test --python "$py"

	echo "== NeoBERT fine-tuning on two cores"
	(cd layers && taskset -c "$pair" "$R/.dev/layers.test" -test.run '^$' -test.bench 'NeoBERT' -test.benchtime 2x | grep -E "^Bench")
	local f
	for f in "" --backward; do
		# shellcheck disable=SC2086 # $f is one flag or none
		OMP_WAIT_POLICY=PASSIVE taskset -c "$pair" "$py" tools/bench_neobert_torch.py --runs 2 $f | tail -1
	done
	date -u
}

case "${1:-}" in
build) build ;;
run) run ;;
*)
	echo "usage: tools/cpucheck.sh build|run" >&2
	exit 2
	;;
esac
