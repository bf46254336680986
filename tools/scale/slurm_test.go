package scale_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// slurmInstall is the line that installs what TestSlurmGrid needs (Debian
// bookworm ships Slurm 22.05 and munge 0.5).
const slurmInstall = "apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge"

// tinyGrid is table 7 on the embedded corpus with the tiny preset: 6
// ablation rows, one seed, one epoch.
var tinyGrid = []string{"--preset", "tiny", "--table", "7", "--epochs", "1", "--seeds", "1111", "--quiet"}

// TestSlurmGrid runs the tiny table-7 grid on a real one-node Slurm
// (slurm-local.sh): submit-slurm.sh submits grid.sbatch as a job array of
// one task per unit and the merge as a job that depends on it. The merged
// table CSV and JSON must be byte for byte those of the single-process
// command with the same flags.
func TestSlurmGrid(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a tiny grid on a local Slurm; run without -short")
	}
	needSlurm(t)
	fdcmdie := buildFdcmdie(t)
	dir := t.TempDir()
	conf := startSlurm(t, filepath.Join(dir, "slurm"))

	grid, logs := filepath.Join(dir, "grid"), filepath.Join(dir, "logs")
	t.Cleanup(func() {
		if t.Failed() {
			printLogs(t, filepath.Join(logs, "*.out"))
		}
	})
	args := append([]string{"-w", "-k", "4", "-l", logs, "--"}, tinyGrid...)
	args = append(args, "--out", grid)
	env := []string{"SLURM_CONF=" + conf, "FDCMDIE=" + fdcmdie, "SUBMIT_SLURM_POLL=1"}
	begin := time.Now()
	runFor(t, 6*time.Minute, env, "./submit-slurm.sh", args...)
	t.Logf("the grid and its merge took %v on Slurm", time.Since(begin).Round(time.Second))

	seq := filepath.Join(dir, "sequential")
	begin = time.Now()
	runFor(t, 4*time.Minute, nil, fdcmdie, append(tinyGrid[:len(tinyGrid):len(tinyGrid)], "--out", seq)...)
	t.Logf("the same grid took %v in one process", time.Since(begin).Round(time.Second))
	sameTables(t, seq, grid)
}

// needSlurm skips the test unless it runs as root (SlurmUser=root, a munge
// key of its own) with the Slurm and munge programs installed.
func needSlurm(t *testing.T) {
	t.Helper()
	var missing []string
	for _, p := range []string{"munged", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "sinfo", "bash"} {
		if _, err := exec.LookPath(p); err != nil {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		t.Skipf("a local Slurm needs %s, not installed here: %s", strings.Join(missing, ", "), slurmInstall)
	}
	if os.Geteuid() != 0 {
		t.Skip("a local Slurm needs root: slurm-local.sh runs slurmctld and slurmd as SlurmUser=root")
	}
}

// buildFdcmdie builds the CLI into a temporary folder and returns its path.
func buildFdcmdie(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "fdcmdie")
	runFor(t, 5*time.Minute, nil, "go", "build", "-o", bin, "github.com/fdcmdie/fdcmdie/cmd/fdcmdie")
	return bin
}

// startSlurm starts a one-node Slurm with its files under dir and returns
// its slurm.conf. Cleanup stops it (its jobs cancelled, its three daemons
// ended) and, when the test failed, prints the daemons' logs; t.TempDir's
// own cleanup, registered before, then removes dir.
func startSlurm(t *testing.T, dir string) string {
	t.Helper()
	t.Cleanup(func() {
		if t.Failed() {
			printLogs(t, filepath.Join(dir, "log", "*.log"))
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if b, err := exec.CommandContext(ctx, "bash", "slurm-local.sh", "stop", dir).CombinedOutput(); err != nil {
			t.Errorf("slurm-local.sh stop %s: %v\n%s", dir, err, b)
		}
	})
	port := freePorts(t)
	runFor(t, 2*time.Minute, []string{fmt.Sprintf("SLURM_LOCAL_PORT=%d", port), "SLURM_LOCAL_TIMEOUT=90"},
		"bash", "slurm-local.sh", "start", dir)
	return filepath.Join(dir, "slurm.conf")
}

// freePorts returns a free TCP port on localhost whose next one is free too
// (slurmctld's and slurmd's).
func freePorts(t *testing.T) int {
	t.Helper()
	for range 20 {
		a, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := a.Addr().(*net.TCPAddr).Port
		b, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port+1))
		a.Close()
		if err == nil {
			b.Close()
			return port
		}
	}
	t.Fatal("no two consecutive free ports on 127.0.0.1")
	return 0
}

// runFor runs a command with env added to the environment and fails the
// test, with its output, when it fails or runs longer than limit. The limit
// shrinks to end a minute before go test's -timeout, which would panic
// without running the cleanups that stop the daemons.
func runFor(t *testing.T, limit time.Duration, env []string, name string, args ...string) {
	t.Helper()
	if end, ok := t.Deadline(); ok && time.Until(end)-time.Minute < limit {
		limit = max(time.Until(end)-time.Minute, time.Second)
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %s: still running after %v, killed; output:\n%s", name, strings.Join(args, " "), limit, out.String())
	}
	if err != nil {
		t.Fatalf("%s %s: %v; output:\n%s", name, strings.Join(args, " "), err, out.String())
	}
}

// printLogs logs the last 4 KiB of each file matching pattern.
func printLogs(t *testing.T, pattern string) {
	files, _ := filepath.Glob(pattern)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Logf("%s: %v", f, err)
			continue
		}
		if len(b) > 4096 {
			b = b[len(b)-4096:]
		}
		t.Logf("== %s (end)\n%s", f, b)
	}
}

// sameTables compares the table CSV and JSON files (RUN.csv, RUN.json) that
// the single-process run wrote under want with those under got, byte for
// byte.
func sameTables(t *testing.T, want, got string) {
	t.Helper()
	csvs, _ := filepath.Glob(filepath.Join(want, "*.csv"))
	if len(csvs) == 0 {
		t.Fatalf("the single-process run wrote no table CSV under %s", want)
	}
	for _, c := range csvs {
		for _, f := range []string{c, strings.TrimSuffix(c, ".csv") + ".json"} {
			w, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			name := filepath.Base(f)
			g, err := os.ReadFile(filepath.Join(got, name))
			if err != nil {
				t.Errorf("the merge wrote no %s: %v", name, err)
				continue
			}
			if !bytes.Equal(g, w) {
				t.Errorf("%s differs: merged on Slurm\n%s\nsingle process\n%s", name, g, w)
			}
		}
	}
}
