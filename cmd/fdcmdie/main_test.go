package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestHelp(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run([]string{"--help"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errb.String(), "Usage: fdcmdie") {
		t.Fatalf("help text: %q", errb.String())
	}
}

func TestUnknownFlag(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run([]string{"--no-such-flag"}, &out, &errb); err == nil {
		t.Fatal("unknown flag accepted")
	}
}
