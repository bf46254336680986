package codeshape

import (
	"bufio"
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const (
	maxFileLines = 600
	maxFuncLines = 80
	// maxCommandLines bounds the command's own code (cmd/fdcmdie without
	// report/ and tests): it parses flags and prints, the library does the
	// rest.
	maxCommandLines = 900
)

// exempt lists the functions allowed over maxFuncLines, by package folder
// and name (Recv.Name for methods). The pickle virtual machine's step
// (datasets/mmsa/opcodes.go) is one case per opcode of pickle protocols
// 2–5, named as in Python's Lib/pickle.py: a flat dispatch table, which
// cutting into pieces would scatter without making any case shorter.
var exempt = map[string]bool{
	"datasets/mmsa machine.step": true,
}

// levels ranks the top-level folders of the module from the bottom up. A
// package may import one of its own group (the first path element) or of
// a group with a lower level; datasets and layers share level 1 and so may
// not import each other.
var levels = map[string]int{
	"internal":    0,
	"datasets":    1,
	"layers":      1,
	"contrastive": 2,
	"graph":       3,
	"train":       4,
	"cmd":         5,
	"tools":       6,
}

// goFile is one parsed Go file of the module.
type goFile struct {
	rel  string // slash path from the module root
	fset *token.FileSet
	file *ast.File
	src  []byte
}

func TestFileLength(t *testing.T) {
	_, files := loadModule(t)
	for _, v := range fileViolations(files) {
		t.Error(v)
	}
}

// TestCommandIsThin: cmd/fdcmdie's Go code, tests and report/ aside, is
// under maxCommandLines lines.
func TestCommandIsThin(t *testing.T) {
	_, files := loadModule(t)
	n := 0
	for _, f := range files {
		if path.Dir(f.rel) == "cmd/fdcmdie" && !strings.HasSuffix(f.rel, "_test.go") {
			n += bytes.Count(f.src, []byte("\n"))
		}
	}
	if n == 0 || n >= maxCommandLines {
		t.Errorf("cmd/fdcmdie has %d lines of Go outside tests and report/, want 1 to %d", n, maxCommandLines-1)
	}
}

func TestFunctionLength(t *testing.T) {
	_, files := loadModule(t)
	for _, v := range funcViolations(files) {
		t.Error(v)
	}
	// An exemption outlives its function only by mistake.
	found := map[string]bool{}
	for _, f := range files {
		for _, d := range f.file.Decls {
			if fn, ok := d.(*ast.FuncDecl); ok {
				found[pathDir(f.rel)+" "+funcName(fn)] = true
			}
		}
	}
	for key := range exempt {
		if !found[key] {
			t.Errorf("exempt names %q, which is not in the repository any more", key)
		}
	}
}

func TestImportLayering(t *testing.T) {
	module, files := loadModule(t)
	for _, v := range importViolations(module, files) {
		t.Error(v)
	}
}

// TestChecksCatch shows each check failing on a planted violation, so that
// a clean run above means something.
func TestChecksCatch(t *testing.T) {
	long := "package p\n\nfunc long() {\n" + strings.Repeat("\t_ = 0\n", maxFuncLines-1) + "}\n"
	ok := "package p\n\nfunc short() {\n" + strings.Repeat("\t_ = 0\n", maxFuncLines-2) + "}\n"
	big := "package p\n" + strings.Repeat("\n", maxFileLines)
	step := "package mmsa\n\nfunc (m *machine) step() {\n" + strings.Repeat("\t_ = 0\n", maxFuncLines) + "}\n"
	cases := []struct {
		name string
		rel  string
		src  string
		want string // substring of the one violation expected; "" for none
	}{
		{"function over the limit", "layers/p.go", long, "layers/p.go:3: long is 81 lines"},
		{"function at the limit", "layers/p.go", ok, ""},
		{"file over the limit", "layers/p.go", big, "layers/p.go: 601 lines"},
		{"exempt opcode switch", "datasets/mmsa/pickle.go", step, ""},
		{"step elsewhere", "datasets/p.go", strings.Replace(step, "mmsa", "p", 1), "machine.step is 82 lines"},
		{"import upward", "layers/p.go", "package p\n\nimport _ \"m/graph\"\n", "layers/p.go:3: imports m/graph"},
		{"import across", "datasets/p.go", "package p\n\nimport _ \"m/layers/sgemm\"\n", "imports m/layers/sgemm"},
		{"import upward from a test", "graph/p_test.go", "package p\n\nimport _ \"m/train\"\n", "imports m/train"},
		{"import own group", "graph/sub/p.go", "package p\n\nimport _ \"m/graph\"\n", ""},
		{"import below", "train/p.go", "package p\n\nimport (\n\t_ \"m/contrastive\"\n\t_ \"m/internal/x\"\n)\n", ""},
		{"internal imports upward", "internal/x/p.go", "package x\n\nimport _ \"m/datasets\"\n", "imports m/datasets"},
		{"unranked folder", "misc/p.go", "package p\n", "misc/p.go: folder misc has no level"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, c.rel, c.src, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			files := []goFile{{rel: c.rel, fset: fset, file: f, src: []byte(c.src)}}
			var got []string
			got = append(got, fileViolations(files)...)
			got = append(got, funcViolations(files)...)
			got = append(got, importViolations("m", files)...)
			switch {
			case c.want == "" && len(got) > 0:
				t.Errorf("want no violation, got %q", got)
			case c.want != "" && (len(got) != 1 || !strings.Contains(got[0], c.want)):
				t.Errorf("want one violation containing %q, got %q", c.want, got)
			}
		})
	}
}

func fileViolations(files []goFile) []string {
	var out []string
	for _, f := range files {
		if n := bytes.Count(f.src, []byte("\n")); n > maxFileLines {
			out = append(out, fmt.Sprintf("%s: %d lines, over %d: split it by topic", f.rel, n, maxFileLines))
		}
	}
	return out
}

func funcViolations(files []goFile) []string {
	var out []string
	for _, f := range files {
		dir := pathDir(f.rel)
		for _, d := range f.file.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			start := f.fset.Position(fn.Type.Func).Line
			n := f.fset.Position(fn.Body.Rbrace).Line - start + 1
			name := funcName(fn)
			if n > maxFuncLines && !exempt[dir+" "+name] {
				out = append(out, fmt.Sprintf("%s:%d: %s is %d lines, over %d", f.rel, start, name, n, maxFuncLines))
			}
		}
	}
	return out
}

// funcName is Name for a function and Recv.Name for a method.
func funcName(fn *ast.FuncDecl) string {
	if fn.Recv == nil || len(fn.Recv.List) == 0 {
		return fn.Name.Name
	}
	typ := fn.Recv.List[0].Type
	for {
		switch x := typ.(type) {
		case *ast.StarExpr:
			typ = x.X
			continue
		case *ast.IndexExpr:
			typ = x.X
			continue
		case *ast.IndexListExpr:
			typ = x.X
			continue
		case *ast.Ident:
			return x.Name + "." + fn.Name.Name
		}
		return fn.Name.Name
	}
}

func importViolations(module string, files []goFile) []string {
	var out []string
	for _, f := range files {
		group := strings.Split(f.rel, "/")[0]
		level, ok := levels[group]
		if !ok {
			out = append(out, fmt.Sprintf("%s: folder %s has no level in the layering", f.rel, group))
			continue
		}
		for _, imp := range f.file.Imports {
			path, err := strconv.Unquote(imp.Path.Value)
			if err != nil || !strings.HasPrefix(path+"/", module+"/") || path == module {
				continue
			}
			to := strings.Split(strings.TrimPrefix(path, module+"/"), "/")[0]
			toLevel, known := levels[to]
			if to == group || (known && toLevel < level) {
				continue
			}
			line := f.fset.Position(imp.Pos()).Line
			out = append(out, fmt.Sprintf("%s:%d: imports %s, which does not stand below %s", f.rel, line, path, group))
		}
	}
	return out
}

// pathDir is the slash folder of a slash path.
func pathDir(rel string) string {
	if i := strings.LastIndex(rel, "/"); i >= 0 {
		return rel[:i]
	}
	return "."
}

// loadModule parses every .go file of the module that holds the test's
// folder, skipping testdata, hidden folders and nested modules, and
// returns the module path with the files sorted by path.
func loadModule(t *testing.T) (string, []goFile) {
	t.Helper()
	root, module := moduleRoot(t)
	var files []goFile
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil && path != root {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, filepath.ToSlash(rel), src, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files = append(files, goFile{rel: filepath.ToSlash(rel), fset: fset, file: f, src: src})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 50 {
		t.Fatalf("found %d Go files under %s: is this the module root?", len(files), root)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].rel < files[j].rel })
	return module, files
}

// moduleRoot goes up from the test's folder to the one holding go.mod and
// returns it with the module path declared there.
func moduleRoot(t *testing.T) (string, string) {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		f, err := os.Open(filepath.Join(dir, "go.mod"))
		if err == nil {
			defer f.Close()
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
					return dir, strings.Trim(strings.TrimSpace(rest), `"`)
				}
			}
			t.Fatalf("%s: no module line", filepath.Join(dir, "go.mod"))
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's folder")
		}
		dir = parent
	}
}
