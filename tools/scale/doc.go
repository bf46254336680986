// Package scale holds no Go code: it is the home of the examples that spread
// an fdcmdie experiment grid over the schedulers research groups already run,
// and of their tests.
//
//   - grid.sbatch: one task of a Slurm job array (`fdcmdie run --shard /N`);
//   - submit-slurm.sh: counts the units (`fdcmdie plan --count`), submits the
//     array and a merge job that depends on it (`fdcmdie merge`);
//   - grid-job.yaml: the same as a Kubernetes Indexed Job on a shared volume,
//     with a merge Job;
//   - slurm-local.sh: a one-node Slurm on localhost to try them (and test
//     them) without a cluster;
//   - README.md: these, and the one-line xargs -P form for one big machine.
//
// The tests check the scripts' command lines with stand-in sbatch and fdcmdie
// programs everywhere, validate grid-job.yaml, and, as root where Debian's
// slurmctld, slurmd and munge are installed, run the tiny table-7 grid on the
// local Slurm and compare the merged tables byte for byte with a
// single-process run of the same flags.
package scale
