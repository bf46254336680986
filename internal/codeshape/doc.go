// Package codeshape holds no code: its test checks the shape of the whole
// repository, so that a file, a function or an import that breaks the
// project's limits fails `go test ./...` with the file and line to fix.
//
// The limits (issue #14, "Library first"):
//   - a .go file has at most 600 lines, tests included;
//   - a function, method, test, example or benchmark has at most 80 lines,
//     counted from its func keyword to its closing brace;
//   - no package imports one that stands above it. From the bottom up:
//     internal/* helpers; datasets (with datasets/*) and layers (with
//     layers/*), which do not import each other; contrastive; graph (with
//     graph/*); train (with train/*); cmd (with cmd/*); tools at the top.
//     A package may import packages of its own group (graph/x imports
//     graph) and of any group below it. Test files count as well.
package codeshape
