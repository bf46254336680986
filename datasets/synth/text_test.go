package synth

import (
	"math"
	"strings"
	"testing"
)

// The rules of the package doc, written out again for the test: modifier
// scales, negators, negation scale, "but" weights.
var (
	docModifiers = map[string]float64{
		"very": 1.4, "really": 1.4, "so": 1.4, "extremely": 1.8, "incredibly": 1.8,
		"pretty": 0.8, "kind of": 0.6, "totally": 1.6, "absolutely": 1.8,
	}
	docNegators = map[string]bool{"not": true, "never": true, "isn't": true, "wasn't": true, "didn't": true, "don't": true}
)

// valences maps every sentiment word (both verb forms) to its valence.
func valences() map[string]float64 {
	m := map[string]float64{}
	for _, list := range [][]sentWord{posAdjectives, negAdjectives, posVerbs, negVerbs} {
		for _, w := range list {
			m[w.word] = w.valence
			if w.base != "" {
				m[w.base] = w.valence
			}
		}
	}
	return m
}

// parsed is what the documented rules read off an utterance.
type parsed struct {
	values   []float64 // value of each sentiment word, in order
	but      bool      // "but" between the first two sentiment words
	negated  bool      // some sentiment word is negated
	modified bool      // some sentiment word has a modifier
	score    float64   // the text score
}

// parse applies the documented rules to the words of text.
func parse(text string, lex map[string]float64) parsed {
	w := strings.Fields(text)
	var p parsed
	for i, word := range w {
		if word == "but" && len(p.values) == 1 {
			p.but = true
		}
		v, ok := lex[word]
		if !ok {
			continue
		}
		j := i - 1
		switch {
		case j >= 1 && w[j-1]+" "+w[j] == "kind of":
			v *= docModifiers["kind of"]
			j -= 2
			p.modified = true
		case j >= 0 && docModifiers[w[j]] != 0:
			v *= docModifiers[w[j]]
			j--
			p.modified = true
		}
		v = min(max(v, -3), 3)
		if j >= 0 && docNegators[w[j]] {
			v *= -0.5
			p.negated = true
		}
		p.values = append(p.values, v)
	}
	switch {
	case len(p.values) == 1:
		p.score = p.values[0]
	case len(p.values) == 2 && p.but:
		p.score = 0.25*p.values[0] + 0.75*p.values[1]
	case len(p.values) == 2:
		p.score = (p.values[0] + p.values[1]) / 2
	}
	return p
}

func TestTextFollowsDocumentedRules(t *testing.T) {
	lex := valences()
	var nNeg, nBut, nMod, nVerbal int
	for seed := int64(1); seed <= 2; seed++ {
		ds, tr := mustGenerate(t, withSeed(seed))
		for _, sp := range splits(ds, tr) {
			for i, text := range sp.s.RawText {
				p := parse(text, lex)
				latent := float64(sp.tr.Latent[i])
				switch sp.tr.Kind[i] {
				case Verbal:
					nVerbal++
					if len(p.values) < 1 || len(p.values) > 2 || math.Abs(p.score-latent) > 1e-5 {
						t.Errorf("verbal %q: rules give %v → %.4f, latent %.4f", text, p.values, p.score, latent)
					}
				case Sarcastic:
					if len(p.values) < 1 || len(p.values) > 2 || p.negated || p.but || p.score <= 0 || math.Abs(-p.score-latent) > 1e-5 {
						t.Errorf("sarcastic %q: rules give %v (negated %v, but %v) → %.4f, latent %.4f; want positive words, latent = -score",
							text, p.values, p.negated, p.but, p.score, latent)
					}
				case NeutralWords:
					if len(p.values) != 0 || strings.Contains(" "+text+" ", " but ") {
						t.Errorf("neutral-words %q has sentiment words %v", text, p.values)
					}
				}
				if p.negated {
					nNeg++
				}
				if p.but {
					nBut++
				}
				if p.modified {
					nMod++
				}
			}
		}
	}
	// The rules above must have been exercised, not only the bare words.
	for name, n := range map[string]int{"negated": nNeg, "but": nBut, "modified": nMod} {
		if n < nVerbal/20 {
			t.Errorf("%d of %d verbal utterances %s, want at least 5%%", n, nVerbal, name)
		}
	}
}
