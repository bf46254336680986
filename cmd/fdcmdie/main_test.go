package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestHelp(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"--help"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Usage: fdcmdie", "-no-gap", "-no-crossatt2", "-no-cl", "-no-cmdie", "-no-neobert", "-seeds",
		"0: the dataset's (mosi 50, mosei 12, the embedded corpus 40); negative is refused", "-overwrite"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

func TestFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--no-such-flag"},
		{"--table", "2"},
		{"--dataset", "imdb"},
		{"--seeds", "1,x"},
		{"--epochs", "-1"},
		{"--clip-norm", "-1"},
		{"--time-budget", "NaN"},
		{"--time-budget", "Inf"},
		{"--text-features"},
		{"extra"},
	} {
		var out, errb bytes.Buffer
		if err := run(context.Background(), args, &out, &errb); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

func TestFlagsParsed(t *testing.T) {
	var errb bytes.Buffer
	f, err := parseFlags("", []string{"--seeds", "1111,1112,1113", "--epochs", "3", "--table", "6", "--no-gap", "--no-crossatt2",
		"--no-cl", "--no-cmdie", "--no-neobert", "--out", "o", "--dataset", "mosei", "--preset", "paper", "--quiet", "--clip-norm", "5",
		"--values", "1,3", "--time-budget", "90s"}, &errb)
	if err != nil {
		t.Fatal(err)
	}
	s := f.spec
	if len(s.Seeds) != 3 || s.Seeds[2] != 1113 || s.Epochs != 3 || s.Table != "6" || !s.NoGAP || !s.NoCrossAtt2 ||
		!s.NoCL || !s.NoCMDIE || !s.NoNeoBERT || f.out != "o" || s.Dataset != "mosei" || s.Preset != "paper" || !f.quiet || s.ClipNorm != 5 ||
		len(s.Values) != 2 || s.Values[1] != 3 || s.TimeBudget != 90*time.Second {
		t.Fatalf("parsed %+v", f)
	}
}

// TestConflictingFlags: combinations whose table would be mislabelled, or
// whose flags would be ignored, are refused with a message naming them.
func TestConflictingFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--table", "7", "--no-gap"}, "--no-gap with --table 7"},
		{[]string{"--table", "7", "--no-cl", "--no-cmdie"}, "--no-cl --no-cmdie with --table 7"},
		{[]string{"--table", "8", "--no-neobert"}, "--no-neobert with --table 8"},
		{[]string{"--table", "4", "--no-cl"}, "--no-cl with --table 4"},
		{[]string{"--table", "5", "--no-cl"}, "--no-cl with --table 5"},
		{[]string{"--data", "x.pkl", "--text-features", "--no-neobert"}, "--no-neobert with --text-features"},
		{[]string{"--neobert", "dir", "--no-neobert"}, "--no-neobert with --neobert"},
		{[]string{"--seeds", "1111,1112,1111"}, "seed 1111 is repeated"},
		{[]string{"--table", "3", "--values", "2,4"}, "--values with --table 3"},
		{[]string{"--table", "4", "--values", "2,2"}, "value 2 is repeated"},
		{[]string{"--table", "4", "--values", "0"}, "not a positive integer"},
		{[]string{"--checkpoint", "best.safetensors"}, "--checkpoint needs --table 8"},
		{[]string{"--cases", "a,b"}, "--cases needs --table 8"},
		{[]string{"--table", "8", "--seeds", "1,2"}, "give one seed"},
		{[]string{"--time-budget", "-1s"}, "must not be negative"},
		{[]string{"--clip-norm", "NaN"}, "--clip-norm NaN: want a finite number"},
		{[]string{"--clip-norm", "Inf"}, "--clip-norm +Inf: want a finite number"},
		{[]string{"--clip-norm", "-inf"}, "--clip-norm -Inf: want a finite number"},
		{[]string{"--epochs", "-1"}, "--epochs -1: want a positive number of epochs, or 0 for the dataset's"},
		{[]string{"--overwrite"}, "--overwrite needs --out"},
		{[]string{"--out", "o", "--resume", "--overwrite"}, "--resume and --overwrite exclude each other"},
	} {
		var errb bytes.Buffer
		_, err := parseFlags("", c.args, &errb)
		if err == nil || !strings.Contains(err.Error()+errb.String(), c.want) {
			t.Errorf("%v: error %v, want one containing %q", c.args, err, c.want)
		}
	}
	for _, ok := range [][]string{
		{"--table", "4", "--values", "2,4,8"},
		{"--table", "6", "--no-cl"},
		{"--table", "8", "--cases", "a$_$1,b$_$2"},
		{"--no-neobert", "--no-gap", "--seeds", "1,2"},
		{"--epochs", "0"},
		{"--out", "o", "--overwrite"},
	} {
		var errb bytes.Buffer
		if _, err := parseFlags("", ok, &errb); err != nil {
			t.Errorf("%v refused: %v", ok, err)
		}
	}
}
