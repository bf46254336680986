package synth

import (
	"math/rand/v2"
	"strings"
)

// Probabilities of the text generator (see the package doc).
const (
	pVerbClause   = 0.35 // a sentiment clause uses a verb ("i loved it") rather than an adjective
	pNegated      = 0.20 // a sentiment word is negated (not for sarcastic utterances)
	pModified     = 0.35 // a sentiment word has an intensifier or attenuator
	pTwoClauses   = 0.30 // an utterance has a second sentiment clause
	pBut          = 0.40 // a second clause is joined with "but" and has the opposite polarity
	pLeadIn       = 0.25 // a neutral sentence comes first ("i saw it last night and ...")
	pPrefix       = 0.40 // a filler comes first ("um", "so", ...)
	pSuffix       = 0.25 // a filler comes last ("i guess", ...)
	pTwoNeutral   = 0.30 // a neutral-word utterance has two neutral sentences
	maxValenceAbs = 3.0  // a modified word's value is clipped to ±maxValenceAbs
)

// pick returns a uniformly chosen element of xs.
func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// placeholders are filled in this fixed order, so the random stream does
// not depend on map iteration.
var placeholders = []struct {
	key   string
	words []string
}{
	{"{noun}", nouns}, {"{film}", films}, {"{person}", persons}, {"{action}", actions},
	{"{time}", times}, {"{relative}", relatives}, {"{source}", sources},
	{"{medium}", media}, {"{rating}", ratings}, {"{length}", lengths},
}

// fill replaces every neutral placeholder of tmpl with a random word.
func fill(r *rand.Rand, tmpl string) string {
	for _, p := range placeholders {
		for strings.Contains(tmpl, p.key) {
			tmpl = strings.Replace(tmpl, p.key, pick(r, p.words), 1)
		}
	}
	return tmpl
}

// neutralSentence is one sentence of the neutral templates.
func neutralSentence(r *rand.Rand) string { return fill(r, pick(r, neutralTemplates)) }

// sentimentClause is one clause with one sentiment word of the given
// polarity, and its value: clip(valence·scale, ±3), times negationScale
// when negated.
func sentimentClause(r *rand.Rand, positive, allowNegation bool) (string, float64) {
	verb := r.Float64() < pVerbClause
	var lex []sentWord
	var mods []modifier
	switch {
	case verb && positive:
		lex, mods = posVerbs, verbModifiers
	case verb:
		lex, mods = negVerbs, verbModifiers
	case positive:
		lex, mods = posAdjectives, adjModifiers
	default:
		lex, mods = negAdjectives, adjModifiers
	}
	w := pick(r, lex)
	negated := allowNegation && r.Float64() < pNegated
	value := w.valence
	mod := ""
	if r.Float64() < pModified {
		m := pick(r, mods)
		mod = m.words + " "
		value = min(max(value*m.scale, -maxValenceAbs), maxValenceAbs)
	}
	if negated {
		value *= negationScale
	}
	var pred string
	if verb {
		if negated {
			switch r.IntN(4) {
			case 0:
				pred = "didn't " + mod + w.base
			case 1:
				pred = "did not " + mod + w.base
			case 2:
				pred = "don't " + mod + w.base
			default:
				pred = "never " + mod + w.word
			}
		} else {
			pred = mod + w.word
		}
		return fill(r, strings.Replace(pick(r, verbTemplates), "{pred}", pred, 1)), value
	}
	be := pick(r, []string{"was", "is"})
	if negated {
		switch r.IntN(3) {
		case 0:
			be += " not"
		case 1:
			be += "n't"
		default:
			be += " never"
		}
	}
	pred = be + " " + mod + w.word
	return fill(r, strings.Replace(pick(r, adjTemplates), "{pred}", pred, 1)), value
}

// frame adds the optional filler prefix and suffix.
func frame(r *rand.Rand, body string) string {
	if r.Float64() < pPrefix {
		body = pick(r, prefixes) + " " + body
	}
	if r.Float64() < pSuffix {
		body += " " + pick(r, suffixes)
	}
	return body
}

// verbalText is an utterance whose words carry its sentiment, and that
// sentiment (the text score). With sarcastic set, all sentiment words are
// positive, never negated and never contrasted with "but".
func verbalText(r *rand.Rand, sarcastic bool) (string, float64) {
	pos1 := sarcastic || r.Float64() < 0.5
	c1, v1 := sentimentClause(r, pos1, !sarcastic)
	body, score := c1, v1
	if r.Float64() < pTwoClauses {
		but := !sarcastic && r.Float64() < pBut
		c2, v2 := sentimentClause(r, pos1 != but, !sarcastic)
		if but {
			body, score = c1+" but "+c2, butWeights[0]*v1+butWeights[1]*v2
		} else {
			body, score = c1+" and "+c2, (v1+v2)/2
		}
	}
	if r.Float64() < pLeadIn {
		body = neutralSentence(r) + " and " + body
	}
	return frame(r, body), score
}

// neutralText is an utterance with no sentiment word.
func neutralText(r *rand.Rand) string {
	body := neutralSentence(r)
	if r.Float64() < pTwoNeutral {
		body += " and " + neutralSentence(r)
	}
	return frame(r, body)
}
