// Package repro reproduces the paper's result tables: the rows of a table
// (TableRows), the training runs behind them (a Plan of Units: each row
// with each seed), the training of a unit (Trainer), its result stored in
// its own folder (SaveResult, LoadResult), and the merged table rows
// (Plan.Results, Plan.Summarize).
//
// # Many machines
//
// Reproducing the paper is a grid, not one run: on CMU-MOSI tables 3, 4,
// 6 and 7 with three seeds are about 60 runs, on CMU-MOSEI tables 3, 5, 6
// and 7 about 55 runs of up to 12 epochs. Every unit is independent and
// deterministic, so the grid spreads over machines with the schedulers
// research groups already run, without a cluster of our own:
//
//   - Plan.Shard(i, n) gives shard i of n its units, round-robin by index,
//     so that each shard gets a share of the expensive rows. ParseShard
//     reads "I/N", or "/N" with I from SLURM_ARRAY_TASK_ID (Slurm job
//     arrays) or JOB_COMPLETION_INDEX (Kubernetes Indexed Jobs).
//   - Each unit writes into its own folder (UnitDir), and its result file
//     last, atomically: any number of shards may share one output folder on
//     a shared file system, a unit with a result is never trained again,
//     and a shard that is killed and restarted continues its interrupted
//     unit from the last completed epoch (train.Options.Resume).
//   - Merging reads every unit's result and summarizes the rows exactly as
//     a single process would: a unit's result is the same bytes wherever
//     it ran (float32 arrays and exactly printed float64 metrics), on any
//     amd64 machine with AVX2/FMA, with or without AVX-512, at any core
//     count (train's TestSameBitsOnEveryMachine). Builds with GOAMD64=v3
//     or v4 or -tags openblas, and CPUs without AVX2/FMA, round
//     differently: a grid's machines should run one default build.
//
// # Why not data-parallel training of one run
//
// One run at MOSI/MOSEI scale fits one machine: a MOSEI-scale epoch of the
// paper preset (16,326 training samples, batch 16, k_cl 50) peaks at
// 11.4 GB and takes 14 minutes on two cores (tools/moseiscale), so a
// 12-epoch run needs one ordinary machine for under 4 hours, and the grid
// has 55 such runs to spread. Splitting one run's batches over machines
// would add gradient all-reduce traffic of the whole model every step (a
// NeoBERT-base encoder is 250M parameters: about 1 GB of float32 per step)
// for no gain in the grid's total time, and would break the bitwise
// determinism the merge relies on unless the reduction order were fixed.
// It would become worth it only for a single run too slow or too large for
// one machine (a data set tens of times MOSEI's size, or a model whose
// activations exceed one machine's memory); that would need synchronous
// data-parallel steps with a fixed-order reduction (or model parallelism
// for memory), the memory bank sharded or replicated, and the epoch
// checkpoints written by one process.
package repro
