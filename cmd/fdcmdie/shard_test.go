package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fdcmdie/fdcmdie/train"
)

// TestMain runs the command itself when FDCMDIE_MAIN is set, so that tests
// can start it as a separate process (the test binary is the command).
func TestMain(m *testing.M) {
	if os.Getenv("FDCMDIE_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// command starts this test binary as "fdcmdie args…".
func command(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "FDCMDIE_MAIN=1")
	return cmd
}

// grid is the tiny table-7 grid of the shard tests: six units of two
// epochs each.
var grid = []string{"--preset", "tiny", "--table", "7", "--epochs", "2", "--quiet"}

// tableFiles reads what a merge or a whole run writes: its standard
// output and its table files.
func tableFiles(t *testing.T, out string, stdout []byte) map[string]string {
	t.Helper()
	files := map[string]string{"stdout": string(stdout)}
	for _, name := range []string{"table7.csv", "table7.json"} {
		raw, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = string(raw)
	}
	return files
}

// mergeGrid merges the grid under out and returns its files.
func mergeGrid(t *testing.T, out string) map[string]string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), append([]string{"merge", "--out", out}, grid...), &stdout, &stderr); err != nil {
		t.Fatalf("merge: %v\n%s", err, stderr.String())
	}
	return tableFiles(t, out, stdout.Bytes())
}

// sameTables fails unless two runs wrote the same bytes.
func sameTables(t *testing.T, what string, want, got map[string]string) {
	t.Helper()
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: %s differs from the sequential run's:\n%s\nwant:\n%s", what, name, got[name], w)
		}
	}
}

// startShards starts shards i of n for every i in which, into out.
func startShards(t *testing.T, out string, n int, which ...int) []*exec.Cmd {
	t.Helper()
	var cmds []*exec.Cmd
	for _, i := range which {
		cmd := command(append([]string{"run", "--shard", fmt.Sprintf("%d/%d", i, n), "--out", out}, grid...)...)
		cmd.Stderr = &bytes.Buffer{}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	return cmds
}

// wait waits for the shards and fails on any that failed.
func wait(t *testing.T, cmds []*exec.Cmd) {
	t.Helper()
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("%v: %v\n%s", cmd.Args[1:4], err, cmd.Stderr)
		}
	}
}

// TestShardedGridMatchesSequential: the grid run in one process, as three
// concurrent shards sharing one --out, and as two shards of which one is
// killed in the middle of a unit and started again, merges into the same
// table, CSV and JSON, byte for byte.
func TestShardedGridMatchesSequential(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a six-unit grid three times; run without -short")
	}
	seq := t.TempDir()
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), append([]string{"--out", seq}, grid...), &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	want := tableFiles(t, seq, stdout.Bytes())

	t.Run("three concurrent shards", func(t *testing.T) {
		out := t.TempDir()
		wait(t, startShards(t, out, 3, 0, 1, 2))
		sameTables(t, "3 shards", want, mergeGrid(t, out))
	})

	t.Run("a shard killed and restarted", func(t *testing.T) {
		out := t.TempDir()
		other := startShards(t, out, 2, 1)
		killed := startShards(t, out, 2, 0)[0]
		// Shard 0's first unit is the full model (index 0): kill the shard
		// once that unit has saved an epoch but before it has a result.
		unit := filepath.Join(out, "checkpoints", "table7", "FD-CMDIE__full_", "1111")
		deadline := time.Now().Add(2 * time.Minute)
		for {
			_, errState := os.Stat(filepath.Join(unit, train.StateFile))
			_, errResult := os.Stat(filepath.Join(unit, "result.safetensors"))
			if errState == nil && errors.Is(errResult, os.ErrNotExist) {
				break
			}
			if errResult == nil || time.Now().After(deadline) {
				t.Fatalf("no moment to kill shard 0 in the middle of its first unit (state %v, result %v)", errState, errResult)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err := killed.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		if err := killed.Wait(); err == nil {
			t.Fatal("the killed shard exited cleanly")
		}
		var partial, perr bytes.Buffer
		err := run(context.Background(), append([]string{"merge", "--out", out}, grid...), &partial, &perr)
		if err == nil || !strings.Contains(err.Error(), "have no result") || !strings.Contains(err.Error(), "0 (FD-CMDIE (full), seed 1111)") {
			t.Errorf("merge with units missing: %v", err)
		}
		restarted := startShards(t, out, 2, 0)
		wait(t, append(other, restarted...))
		if log := restarted[0].Stderr.(*bytes.Buffer).String(); log != "" {
			t.Logf("restarted shard: %s", log)
		}
		sameTables(t, "killed and restarted", want, mergeGrid(t, out))
	})
}
