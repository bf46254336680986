package repro

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/fdcmdie/fdcmdie/datasets"
	"github.com/fdcmdie/fdcmdie/graph"
)

// Unit is one training run of a plan: one row of a table with one seed.
// Units are independent and deterministic, so any number of processes on
// any number of machines can run them.
type Unit struct {
	Index int    `json:"index"` // position in the plan, from 0, row-major (row, then seed)
	Table string `json:"table"`
	Row   string `json:"row"`
	Seed  uint64 `json:"seed"`
	// Config hashes what the unit's result depends on besides the data:
	// the model config, the seed and the training setting (batch,
	// learning rate, epochs, patience, gradient clipping). A stored result
	// with another hash is out of date.
	Config string `json:"config"`
	// Cost estimates the work in sample-steps: training samples × maximum
	// epochs. Early stopping ends most runs sooner; the text-only baseline
	// costs about a sixth of a full-model step.
	Cost int64 `json:"cost"`
	// Model is the row's model config.
	Model graph.Config `json:"-"`
}

// Plan is the runs behind one table: every row trained with every seed,
// on one data set with one training setting.
type Plan struct {
	Run      string           // names the table's files under an output folder
	Table    string           // "3" … "7" (5: the k_cl sweep of CMU-MOSEI)
	Data     string           // the data set's name, for titles
	Setting  datasets.Setting // paper table 2, with --epochs and --time-budget applied
	ClipNorm float64          // global gradient-norm clipping; 0: none
	Rows     []Row
	Seeds    []uint64
	Units    []Unit
}

// NewPlan lists the units of rows × seeds; trainSamples is the size of the
// training split, for the cost estimate.
func NewPlan(run, table, data string, set datasets.Setting, clipNorm float64, rows []Row, seeds []uint64, trainSamples int) (*Plan, error) {
	if len(rows) == 0 || len(seeds) == 0 {
		return nil, fmt.Errorf("plan %s: %d rows and %d seeds: nothing to train", run, len(rows), len(seeds))
	}
	p := &Plan{Run: run, Table: table, Data: data, Setting: set, ClipNorm: clipNorm, Rows: rows, Seeds: seeds}
	for _, r := range rows {
		for _, seed := range seeds {
			hash, err := unitHash(r.Config, seed, set, clipNorm)
			if err != nil {
				return nil, fmt.Errorf("plan %s: row %q: %w", run, r.Name, err)
			}
			p.Units = append(p.Units, Unit{Index: len(p.Units), Table: table, Row: r.Name, Seed: seed, Config: hash,
				Cost: int64(trainSamples) * int64(set.Epochs), Model: r.Config})
		}
	}
	return p, nil
}

// unitHash is Unit.Config: the first 16 hex digits of a SHA-256 over the
// JSON of everything a result depends on besides the data.
func unitHash(cfg graph.Config, seed uint64, set datasets.Setting, clipNorm float64) (string, error) {
	data, err := json.Marshal(struct {
		Config   graph.Config `json:"config"`
		Seed     uint64       `json:"seed"`
		Batch    int          `json:"batch"`
		LR       float64      `json:"lr"`
		Epochs   int          `json:"epochs"`
		Patience int          `json:"patience"`
		ClipNorm float64      `json:"clip_norm"`
	}{cfg, seed, set.Batch, set.LR, set.Epochs, set.Patience, clipNorm})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:8]), nil
}

// Cost is the sum of the units' costs.
func (p *Plan) Cost() int64 {
	var c int64
	for _, u := range p.Units {
		c += u.Cost
	}
	return c
}

// Shard returns the units of shard i of n: those whose index is i modulo
// n. Round-robin keeps the shards' work even: a table's expensive rows
// (the full model, deep layer counts) are spread over all shards.
func (p *Plan) Shard(i, n int) []Unit {
	var us []Unit
	for _, u := range p.Units {
		if u.Index%n == i {
			us = append(us, u)
		}
	}
	return us
}

// Environment variables that schedulers set to a task's index: Slurm's job
// arrays and Kubernetes' Indexed Jobs.
var shardIndexEnv = []string{"SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"}

// ParseShard reads "I/N" (shard I of N, 0 ≤ I < N). With "/N" the index
// comes from the first of SLURM_ARRAY_TASK_ID and JOB_COMPLETION_INDEX
// that is set.
func ParseShard(s string) (i, n int, err error) { return parseShardEnv(s, os.LookupEnv) }

// parseShardEnv is ParseShard with lookup in place of os.LookupEnv.
func parseShardEnv(s string, lookup func(string) (string, bool)) (i, n int, err error) {
	index, count, ok := strings.Cut(s, "/")
	if !ok {
		return 0, 0, fmt.Errorf("shard %q: want I/N (shard I of N, from 0) or /N (I from %s)", s, strings.Join(shardIndexEnv, " or "))
	}
	if n, err = strconv.Atoi(count); err != nil || n < 1 {
		return 0, 0, fmt.Errorf("shard %q: N = %q is not a positive integer", s, count)
	}
	from := "shard " + strconv.Quote(s)
	if index == "" {
		for _, name := range shardIndexEnv {
			if v, set := lookup(name); set && v != "" {
				index, from = v, name
				break
			}
		}
		if index == "" {
			return 0, 0, fmt.Errorf("shard %q: no index: none of %s is set", s, strings.Join(shardIndexEnv, ", "))
		}
	}
	if i, err = strconv.Atoi(index); err != nil || i < 0 {
		return 0, 0, fmt.Errorf("%s: index %q is not a non-negative integer", from, index)
	}
	if i >= n {
		return 0, 0, errors.New(from + ": index " + index + " is not below the shard count " + count)
	}
	return i, n, nil
}
