package scale_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// k8sObject is the part of the Kubernetes API that grid-job.yaml uses: a
// PersistentVolumeClaim and batch/v1 Jobs. Decoding with KnownFields
// refuses any other field, so a misspelt one fails the test instead of
// being ignored as kubectl apply would warn.
type k8sObject struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		AccessModes    []string  `yaml:"accessModes"`    // PersistentVolumeClaim
		Resources      resources `yaml:"resources"`      // PersistentVolumeClaim
		CompletionMode string    `yaml:"completionMode"` // Job from here on
		Completions    int       `yaml:"completions"`
		Parallelism    int       `yaml:"parallelism"`
		BackoffLimit   *int      `yaml:"backoffLimit"`
		Suspend        bool      `yaml:"suspend"`
		Template       struct {
			Spec podSpec `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type resources struct {
	Requests map[string]string `yaml:"requests"`
	Limits   map[string]string `yaml:"limits"`
}

type podSpec struct {
	RestartPolicy string `yaml:"restartPolicy"`
	Containers    []struct {
		Name         string    `yaml:"name"`
		Image        string    `yaml:"image"`
		Command      []string  `yaml:"command"`
		Args         []string  `yaml:"args"`
		Resources    resources `yaml:"resources"`
		VolumeMounts []struct {
			Name      string `yaml:"name"`
			MountPath string `yaml:"mountPath"`
		} `yaml:"volumeMounts"`
	} `yaml:"containers"`
	Volumes []struct {
		Name                  string `yaml:"name"`
		PersistentVolumeClaim struct {
			ClaimName string `yaml:"claimName"`
		} `yaml:"persistentVolumeClaim"`
	} `yaml:"volumes"`
}

// readManifest decodes every document of a multi-document YAML file.
func readManifest(t *testing.T, path string) []k8sObject {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	var objs []k8sObject
	for {
		var o k8sObject
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			return objs
		}
		if err != nil {
			t.Fatalf("%s, document %d: %v", path, len(objs)+1, err)
		}
		objs = append(objs, o)
	}
}

// TestIndexedJob validates grid-job.yaml: a ReadWriteMany claim; an Indexed
// Job whose pods run `fdcmdie run --shard /N` with N its completions and
// --out on the shared claim; a suspended merge Job with the same flags. The
// flags must parse as the CLI's, and `fdcmdie plan --count` must count N
// units for them.
func TestIndexedJob(t *testing.T) {
	objs := readManifest(t, "grid-job.yaml")
	byKind := map[string]k8sObject{}
	for _, o := range objs {
		key := o.Kind
		if o.Kind == "Job" && len(o.Spec.Template.Spec.Containers) > 0 && len(o.Spec.Template.Spec.Containers[0].Args) > 0 {
			key += " " + o.Spec.Template.Spec.Containers[0].Args[0]
		}
		byKind[key] = o
	}
	claim, grid, merge := byKind["PersistentVolumeClaim"], byKind["Job run"], byKind["Job merge"]
	if len(objs) != 3 || claim.Kind == "" || grid.Kind == "" || merge.Kind == "" {
		t.Fatalf("grid-job.yaml has %d documents; want a PersistentVolumeClaim, a Job running fdcmdie run and one running fdcmdie merge", len(objs))
	}
	if claim.APIVersion != "v1" || !reflect.DeepEqual(claim.Spec.AccessModes, []string{"ReadWriteMany"}) || claim.Spec.Resources.Requests["storage"] == "" {
		t.Errorf("claim %s: apiVersion %q, accessModes %q, storage %q; want v1, [ReadWriteMany] and a size",
			claim.Metadata.Name, claim.APIVersion, claim.Spec.AccessModes, claim.Spec.Resources.Requests["storage"])
	}
	n := grid.Spec.Completions
	if grid.APIVersion != "batch/v1" || grid.Spec.CompletionMode != "Indexed" || n < 1 || grid.Spec.Parallelism < 1 || grid.Spec.Parallelism > n || grid.Spec.Suspend {
		t.Errorf("grid Job %s: apiVersion %q, completionMode %q, completions %d, parallelism %d, suspend %v; want batch/v1, Indexed, 1 ≤ parallelism ≤ completions, not suspended",
			grid.Metadata.Name, grid.APIVersion, grid.Spec.CompletionMode, n, grid.Spec.Parallelism, grid.Spec.Suspend)
	}
	if merge.APIVersion != "batch/v1" || merge.Spec.CompletionMode != "" || merge.Spec.Completions != 1 || !merge.Spec.Suspend {
		t.Errorf("merge Job %s: apiVersion %q, completionMode %q, completions %d, suspend %v; want batch/v1, NonIndexed, 1, suspended until the grid is complete",
			merge.Metadata.Name, merge.APIVersion, merge.Spec.CompletionMode, merge.Spec.Completions, merge.Spec.Suspend)
	}
	gridFlags := checkPod(t, "grid", grid.Spec.Template.Spec, claim.Metadata.Name)
	mergeFlags := checkPod(t, "merge", merge.Spec.Template.Spec, claim.Metadata.Name)
	if gridFlags == nil || mergeFlags == nil {
		return
	}
	if gridFlags.shard != "/"+strconv.Itoa(n) {
		t.Errorf("grid pods run --shard %q; want /%d: the index from JOB_COMPLETION_INDEX, the count the Job's completions", gridFlags.shard, n)
	}
	if !reflect.DeepEqual(gridFlags.training, mergeFlags.training) || gridFlags.out != mergeFlags.out {
		t.Errorf("the merge's flags %q --out %s differ from the grid's %q --out %s", mergeFlags.training, mergeFlags.out, gridFlags.training, gridFlags.out)
	}
	planCount(t, gridFlags.training, n)
}

// podFlags is a pod's fdcmdie command line taken apart.
type podFlags struct {
	shard, out string
	training   []string // the rest, in order
}

// checkPod checks a Job's pod template: restartPolicy, one fdcmdie
// container whose --out lies on a volume mount of claim, and returns its
// flags (nil after a failed check).
func checkPod(t *testing.T, job string, pod podSpec, claim string) *podFlags {
	t.Helper()
	if pod.RestartPolicy != "Never" && pod.RestartPolicy != "OnFailure" {
		t.Errorf("%s: restartPolicy %q; a Job wants Never or OnFailure", job, pod.RestartPolicy)
	}
	if len(pod.Containers) != 1 || !reflect.DeepEqual(pod.Containers[0].Command, []string{"fdcmdie"}) || pod.Containers[0].Image == "" {
		t.Errorf("%s: want one container with an image and command [fdcmdie]", job)
		return nil
	}
	c := pod.Containers[0]
	f := &podFlags{}
	for i := 1; i < len(c.Args); i++ {
		name, value, inline := strings.Cut(strings.TrimLeft(c.Args[i], "-"), "=")
		if (name == "shard" || name == "out") && !inline && i+1 < len(c.Args) {
			i++
			value = c.Args[i]
		}
		switch name {
		case "shard":
			f.shard = value
		case "out":
			f.out = value
		default:
			f.training = append(f.training, c.Args[i])
		}
	}
	if f.out == "" {
		t.Errorf("%s: fdcmdie %q has no --out", job, c.Args)
		return nil
	}
	for _, m := range c.VolumeMounts {
		for _, v := range pod.Volumes {
			rel, err := filepath.Rel(m.MountPath, f.out)
			if v.Name == m.Name && v.PersistentVolumeClaim.ClaimName == claim && err == nil && !strings.HasPrefix(rel, "..") {
				return f
			}
		}
	}
	t.Errorf("%s: --out %s is not on a volume mount of the claim %s", job, f.out, claim)
	return nil
}

// planCount runs `fdcmdie plan --count` with a pod's training flags and
// checks that it counts n units. plan reads --data, so a --data pickle is
// replaced by the shared tiny one (../shared/fixtures): the count of units
// depends on the table, its rows and the seeds, not on the data's size.
func planCount(t *testing.T, flags []string, n int) {
	t.Helper()
	if testing.Short() {
		t.Log("-short: the flags are not given to fdcmdie plan")
		return
	}
	flags = slices.Clone(flags)
	for i, f := range flags {
		if (f == "--data" || f == "-data") && i+1 < len(flags) {
			pkl := filepath.Join("..", "..", "..", "shared", "fixtures", "mmsa_tiny_aligned_50.pkl")
			if _, err := os.Stat(pkl); err != nil {
				t.Skipf("shared fixtures not found (%v): fdcmdie plan needs a pickle for --data", err)
			}
			flags[i+1] = pkl
		}
	}
	cmd := exec.Command(buildFdcmdie(t), append([]string{"plan", "--count"}, flags...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("fdcmdie plan --count %s: %v\n%s", strings.Join(flags, " "), err, stderr.String())
	}
	if got := strings.TrimSpace(string(out)); got != strconv.Itoa(n) {
		t.Errorf("fdcmdie plan --count %s counts %q units; grid-job.yaml's completions and --shard say %d", strings.Join(flags, " "), got, n)
	}
}
