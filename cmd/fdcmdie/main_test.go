package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestHelp(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"--help"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Usage: fdcmdie", "-no-gap", "-no-crossatt2", "-no-cl", "-no-cmdie", "-no-neobert", "-seeds"} {
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
	f, err := parseFlags([]string{"--seeds", "1111,1112,1113", "--epochs", "3", "--table", "7", "--no-gap", "--no-crossatt2",
		"--no-cl", "--no-cmdie", "--no-neobert", "--out", "o", "--dataset", "mosei", "--preset", "paper", "--quiet", "--clip-norm", "5"}, &errb)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.seeds) != 3 || f.seeds[2] != 1113 || f.epochs != 3 || f.table != "7" || !f.noGAP || !f.noCrossAtt2 ||
		!f.noCL || !f.noCMDIE || !f.noNeoBERT || f.out != "o" || f.dataset != "mosei" || f.preset != "paper" || !f.quiet || f.clipNorm != 5 {
		t.Fatalf("parsed %+v", f)
	}
}
