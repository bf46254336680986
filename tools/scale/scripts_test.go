package scale_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Stand-ins for the programs the scripts call. Each appends its arguments,
// one a line, to $LOG/NAME.N (N counting its calls from 1) and answers as
// the real one would in the case under test.
const (
	fakeFdcmdie = `#!/usr/bin/env bash
printf '%s\n' "$@" >"$LOG/fdcmdie"
[ "$1" = plan ] && echo "$COUNT"
exit 0
`
	fakeSbatch = `#!/usr/bin/env bash
n=$(($(ls "$LOG" | grep -c '^sbatch\.[0-9]*$') + 1))
printf '%s\n' "$@" >"$LOG/sbatch.$n"
echo "$FDCMDIE" >"$LOG/sbatch.$n.env"
[ "$n" = 1 ] && echo "41;local" || echo 42
`
	fakeSqueue   = "#!/usr/bin/env bash\nexit 0\n"
	fakeScontrol = "#!/usr/bin/env bash\necho \"JobId=$4 JobName=fdcmdie-merge JobState=$STATE Reason=None\"\n"
)

// stubs writes the stand-ins into a new folder and returns it, with the
// folder the stand-ins log to.
func stubs(t *testing.T) (bin, log string) {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("the scripts need bash")
	}
	bin, log = t.TempDir(), t.TempDir()
	for name, text := range map[string]string{"fdcmdie": fakeFdcmdie, "sbatch": fakeSbatch, "squeue": fakeSqueue, "scontrol": fakeScontrol} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(text), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return bin, log
}

// script runs a script of this folder with bash and env added to the
// environment, and returns its exit code, stdout and stderr.
func script(t *testing.T, env []string, name string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command("bash", append([]string{name}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("%s: %v", name, err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

// logged returns the arguments a stand-in logged to file name.
func logged(t *testing.T, log, name string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(log, name))
	if err != nil {
		t.Fatalf("%s was not called: %v", name, err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// TestSubmitSlurm checks the two sbatch command lines submit-slurm.sh makes:
// an array of one task per planned unit, capped by -k, and a merge that
// depends on it, whose --wrap line gives fdcmdie back the flags as they were
// (an --out folder with a space in its name included).
func TestSubmitSlurm(t *testing.T) {
	bin, log := stubs(t)
	here, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	out, logs := filepath.Join(t.TempDir(), "my results"), t.TempDir()
	fd := filepath.Join(bin, "fdcmdie")
	env := []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "LOG=" + log, "COUNT=6", "FDCMDIE=fdcmdie"}
	code, stdout, stderr := script(t, env, "submit-slurm.sh", "-k", "2", "-l", logs, "-s", "--time=1:00:00",
		"--", "--preset", "tiny", "--table", "7", "--out="+out)
	if code != 0 || stdout != "grid 41\nmerge 42\n" {
		t.Fatalf("exit %d, stdout %q, want 0 and the two job ids; stderr:\n%s", code, stdout, stderr)
	}
	flags := []string{"--preset", "tiny", "--table", "7"}
	if got := logged(t, log, "fdcmdie"); !reflect.DeepEqual(got, append([]string{"plan", "--count"}, flags...)) {
		t.Errorf("plan called with %q, want the flags without --out", got)
	}
	withOut := append(flags[:len(flags):len(flags)], "--out", out)
	grid := append([]string{"--parsable", "--time=1:00:00", "--array=0-5%2", "--job-name=fdcmdie-grid",
		"--output=" + logs + "/fdcmdie-grid-%A_%a.out", filepath.Join(here, "grid.sbatch")}, withOut...)
	if got := logged(t, log, "sbatch.1"); !reflect.DeepEqual(got, grid) {
		t.Errorf("array submitted as\n%q\nwant\n%q", got, grid)
	}
	if got := logged(t, log, "sbatch.1.env"); got[0] != fd {
		t.Errorf("the array's FDCMDIE is %q, want the resolved path %q", got[0], fd)
	}
	merge := logged(t, log, "sbatch.2")
	want := []string{"--parsable", "--time=1:00:00", "--dependency=afterok:41", "--kill-on-invalid-dep=yes",
		"--job-name=fdcmdie-merge", "--output=" + logs + "/fdcmdie-merge-%j.out", "--wrap"}
	if len(merge) != len(want)+1 || !reflect.DeepEqual(merge[:len(want)], want) {
		t.Fatalf("merge submitted as\n%q\nwant\n%q and a command", merge, want)
	}
	wrap := exec.Command("bash", "-c", merge[len(want)])
	wrap.Env = env
	if b, err := wrap.CombinedOutput(); err != nil {
		t.Fatalf("the merge's --wrap line %q: %v\n%s", merge[len(want)], err, b)
	}
	if got := logged(t, log, "fdcmdie"); !reflect.DeepEqual(got, append([]string{"merge"}, withOut...)) {
		t.Errorf("the merge's --wrap line %q runs fdcmdie %q, want merge and %q", merge[len(want)], got, withOut)
	}
}

// TestSubmitSlurmWait checks -w: the exit status says whether the merge job
// completed, as scontrol reports its state.
func TestSubmitSlurmWait(t *testing.T) {
	for state, want := range map[string]int{"COMPLETED": 0, "CANCELLED": 1, "FAILED": 1} {
		bin, log := stubs(t)
		env := []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "LOG=" + log, "COUNT=3", "STATE=" + state, "SUBMIT_SLURM_POLL=0"}
		code, stdout, stderr := script(t, env, "submit-slurm.sh", "-w", "-l", t.TempDir(), "--", "--out", t.TempDir())
		if code != want || !strings.Contains(stdout, "merge 42 ended: JobState="+state) {
			t.Errorf("merge %s: exit %d, want %d; stdout:\n%s\nstderr:\n%s", state, code, want, stdout, stderr)
		}
	}
}

// TestSubmitSlurmRefuses checks that submit-slurm.sh stops before sbatch on
// a missing --out, a bad -k and a plan of no units.
func TestSubmitSlurmRefuses(t *testing.T) {
	for _, c := range []struct {
		name, count string
		args        []string
		code        int
		says        string
	}{
		{"no --out", "6", []string{"--", "--table", "7"}, 2, "--out"},
		{"-k 0", "6", []string{"-k", "0", "--", "--out", "x"}, 2, "-k 0"},
		{"no units", "0", []string{"--", "--out", "x"}, 1, "not a number of units"},
	} {
		bin, log := stubs(t)
		env := []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "LOG=" + log, "COUNT=" + c.count}
		code, _, stderr := script(t, env, "submit-slurm.sh", c.args...)
		if code != c.code || !strings.Contains(stderr, c.says) {
			t.Errorf("%s: exit %d, stderr %q; want %d and %q", c.name, code, stderr, c.code, c.says)
		}
		if _, err := os.Stat(filepath.Join(log, "sbatch.1")); err == nil {
			t.Errorf("%s: sbatch was called", c.name)
		}
	}
}

// TestGridSbatch checks the array task's command line: run --shard /N with
// N from Slurm and the flags passed through, and a clear refusal outside an
// array.
func TestGridSbatch(t *testing.T) {
	bin, log := stubs(t)
	env := []string{"LOG=" + log, "FDCMDIE=" + filepath.Join(bin, "fdcmdie"), "SLURM_ARRAY_TASK_COUNT=3", "SLURM_ARRAY_TASK_ID=1"}
	if code, _, stderr := script(t, env, "grid.sbatch", "--table", "7", "--out", "/shared/x"); code != 0 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	want := []string{"run", "--shard", "/3", "--table", "7", "--out", "/shared/x"}
	if got := logged(t, log, "fdcmdie"); !reflect.DeepEqual(got, want) {
		t.Errorf("fdcmdie %q, want %q", got, want)
	}
	code, _, stderr := script(t, []string{"SLURM_ARRAY_TASK_COUNT=", "FDCMDIE=" + filepath.Join(bin, "fdcmdie")}, "grid.sbatch", "--out", "x")
	if code != 2 || !strings.Contains(stderr, "job array") {
		t.Errorf("outside an array: exit %d, stderr %q; want 2 and a hint to submit a job array", code, stderr)
	}
}

// TestShellcheck runs shellcheck on the scripts where it is installed.
func TestShellcheck(t *testing.T) {
	if _, err := exec.LookPath("shellcheck"); err != nil {
		t.Skip("shellcheck is not installed (apt-get install shellcheck)")
	}
	cmd := exec.Command("shellcheck", "grid.sbatch", "submit-slurm.sh", "slurm-local.sh")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("shellcheck: %v\n%s", err, b)
	}
}
