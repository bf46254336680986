#!/usr/bin/env bash
# submit-slurm.sh: run an fdcmdie experiment grid on Slurm and merge it.
#
#   tools/scale/submit-slurm.sh [-k MAX] [-l LOGDIR] [-s SBATCH_OPTION]... [-w] \
#     -- FDCMDIE_FLAGS... --out SHARED_DIR
#
# Counts the grid's units (`fdcmdie plan --count FDCMDIE_FLAGS`, --out left
# out), submits tools/scale/grid.sbatch as a job array of one task per unit,
# then `fdcmdie merge FDCMDIE_FLAGS` as a job that starts only when every
# task of the array has ended well (--dependency=afterok; if one fails the
# merge is cancelled: fix the cause and run this script again, finished
# units are skipped). SHARED_DIR must be on a file system every node sees.
# Prints "grid JOBID" and "merge JOBID".
#
#   -k MAX     run at most MAX tasks of the array at once (--array=0-(N-1)%MAX)
#   -l LOGDIR  folder of the jobs' output files (default: the current folder)
#   -s OPTION  an sbatch option for both jobs, e.g. -s --time=8:00:00
#              -s --cpus-per-task=4 -s --partition=cpu (repeatable); sbatch's
#              SBATCH_* environment variables work too
#   -w         wait for the merge to end (polling squeue every
#              SUBMIT_SLURM_POLL seconds, default 10); exit 1 unless it
#              completed (then a task of the array failed: see LOGDIR)
#
# Environment: FDCMDIE, the fdcmdie binary (default: fdcmdie on PATH; the
# jobs get the path it resolves to here).
#
# Example, the tiny table-7 grid:
#   tools/scale/submit-slurm.sh -k 4 -w -- --preset tiny --table 7 --epochs 1 \
#     --seeds 1111 --out /shared/fdcmdie-tiny
set -euo pipefail

usage() {
  { printf 'usage:'; sed -n '4,5s/^#//p' "$0"; } >&2
  exit 2
}

max="" logdir=. wait=0
sbatchopts=()
while getopts "k:l:s:w" opt; do
  case $opt in
  k) max=$OPTARG ;;
  l) logdir=$OPTARG ;;
  s) sbatchopts+=("$OPTARG") ;;
  w) wait=1 ;;
  *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || usage
if [ -n "$max" ] && ! [[ $max =~ ^[1-9][0-9]*$ ]]; then
  echo "submit-slurm.sh: -k $max: want a positive number of tasks" >&2
  exit 2
fi

fdcmdie=$(command -v "${FDCMDIE:-fdcmdie}") || {
  echo "submit-slurm.sh: ${FDCMDIE:-fdcmdie} not found: install it or set FDCMDIE" >&2
  exit 1
}
here=$(cd "$(dirname "$0")" && pwd)

# plan takes the training flags without --out: units do not depend on it.
planflags=() out=""
while [ $# -gt 0 ]; do
  case $1 in
  --out | -out)
    [ $# -ge 2 ] || { echo "submit-slurm.sh: $1 needs a folder" >&2; exit 2; }
    out=$2
    shift 2
    ;;
  --out=* | -out=*)
    out=${1#*=}
    shift
    ;;
  *)
    planflags+=("$1")
    shift
    ;;
  esac
done
[ -n "$out" ] || { echo "submit-slurm.sh: the fdcmdie flags need --out SHARED_DIR" >&2; exit 2; }
flags=("${planflags[@]}" --out "$out")

n=$("$fdcmdie" plan --count "${planflags[@]}")
if ! [[ $n =~ ^[0-9]+$ ]] || [ "$n" -eq 0 ]; then
  echo "submit-slurm.sh: fdcmdie plan --count printed '$n', not a number of units" >&2
  exit 1
fi
array="0-$((n - 1))"
[ -z "$max" ] || array="$array%$max"
mkdir -p "$logdir" "$out"

grid=$(FDCMDIE=$fdcmdie sbatch --parsable "${sbatchopts[@]}" --array="$array" \
  --job-name=fdcmdie-grid --output="$logdir/fdcmdie-grid-%A_%a.out" \
  "$here/grid.sbatch" "${flags[@]}")
grid=${grid%%;*}
echo "grid $grid"

id=$(sbatch --parsable "${sbatchopts[@]}" --dependency="afterok:$grid" --kill-on-invalid-dep=yes \
  --job-name=fdcmdie-merge --output="$logdir/fdcmdie-merge-%j.out" \
  --wrap "$(printf '%q ' "$fdcmdie" merge "${flags[@]}")")
merge=${id%%;*}
echo "merge $merge"
[ "$wait" = 1 ] || exit 0

# Not sbatch --wait: it polls every 32 s at worst and exits 0 for a merge
# cancelled because its dependency failed.
while [ -n "$(squeue -h -j "$grid,$merge" -o %i 2>/dev/null)" ]; do
  sleep "${SUBMIT_SLURM_POLL:-10}"
done
state=$(scontrol show job -o "$merge" 2>/dev/null | grep -o 'JobState=[A-Z_]*' || true)
if [ -z "$state" ] && command -v sacct >/dev/null; then
  state=JobState=$(sacct -n -X -P -j "$merge" -o State 2>/dev/null | head -n 1 || true)
fi
echo "merge $merge ended: ${state:-JobState unknown}"
[ "$state" = JobState=COMPLETED ]
