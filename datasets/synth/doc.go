// Package synth generates the synthetic corpus the CLI trains on when it is
// given no data file: a deterministic stand-in for CMU-MOSI (aligned_50),
// made in code from a seed, with no file in the repository.
//
// # Shape
//
// Generate(DefaultConfig()) returns a datasets.Dataset named "synthetic"
// with MOSI's split sizes, 1284 / 229 / 686 utterances, spoken by 54 / 10 /
// 29 speakers (93 in all, as MOSI's 93 videos); no speaker is in two
// splits. Ids read "speaker$_$clip" as MOSI's do: an 11-character
// YouTube-like speaker id and the clip number, 1, 2, ... per speaker; a
// split lists its speakers' clips in order. Each utterance has a raw
// English sentence (lower case, no punctuation, 3 to 42 words, rarely
// over 30), a label, and audio (50×5) and vision (50×20) features aligned
// to the words: AudioLen = VisionLen = the number of words, steps past it
// are zero. TextIDs, TextLen and TextFeats are left empty for the tokenizer.
//
// # Where the sentiment lives
//
// Every utterance has a latent, noise-free sentiment score in [-3, 3]
// (GenerateWithTruth returns it as Truth.Latent, with the utterance's
// Kind). There are three kinds of utterances, drawn independently:
//
//   - Verbal (1 − NeutralFrac − SarcasmFrac = 77%): the words carry the
//     sentiment; the latent score is the text score below.
//   - NeutralWords (NeutralFrac = 15%): no sentiment word ("so the movie is
//     about a cop who runs for mayor"); the latent score is N(0, 1.5²)
//     clipped to ±3 and only voice and face carry it.
//   - Sarcastic (SarcasmFrac = 8%): only positive, never negated sentiment
//     words, joined with "and"; voice and face are negative. The label
//     follows the sign of voice and face with the magnitude of the words:
//     latent = −(text score).
//
// The text score of an utterance comes from its one or two sentiment
// clauses ("the plot was not very good", "i really loved it"):
//
//   - a sentiment word (20 positive and 18 negative adjectives, 5 positive
//     and 3 negative verbs, magnitudes 0.4 to 2.8) has its valence;
//   - a modifier directly before it multiplies that: very, really, so 1.4;
//     extremely, incredibly 1.8; totally 1.6; absolutely 1.8; pretty 0.8;
//     kind of 0.6; the product is clipped to ±3;
//   - a negator directly before that (not, never, isn't, wasn't, didn't,
//     don't) multiplies by −0.5: "not good" is mildly negative, "not
//     terrible" mildly positive (20% of sentiment words);
//   - two clauses (30% of verbal utterances) joined by "and" average; joined
//     by "but" (40% of those, opposite polarities) weigh 0.25 and 0.75, the
//     clause after "but" dominating.
//
// Around the clauses come neutral movie-talk sentences ("i saw the movie
// last weekend and ..."), fillers ("um", "so", "you know") and endings
// ("i guess", "in my opinion"); none contains a sentiment word, a negator
// or "but". A bag-of-words linear model recovers part of the
// text score but not the negations, modifiers and clause weights, which
// need word order.
//
// # Labels
//
// label = clip(round(5·(latent + ε))/5, −3, 3), ε ~ N(0, LabelNoise²) with
// LabelNoise = 0.3 by default: MOSI's grid of multiples of 0.2, rounded
// half away from zero.
//
// # Audio and vision
//
// The non-verbal sentiment is z = e·latent, with the expressiveness e ~
// U[0.1, 0.6] for verbal utterances (the words speak, the face stays
// calm) and U[0.5, 1] for the other two kinds. Over the n real steps it
// follows a Gaussian bump p(t) peaking at a random step in the middle half
// of the utterance, of width 1 + 0.2n. A channel with loads (a, m) reads
// a·z·p(t) + m·|z|·p(t) + noise: audio 0 (pitch) 0.8, audio 1 (energy)
// m = 0.6, audio 2 (voice quality) −0.5; vision 0 (smile, AU12) 1.0,
// vision 1 (brow lowerer, AU4) −0.7, vision 2 (cheek raiser, AU6) 0.5,
// vision 3 (head motion) m = 0.5; audio 3–4 and vision 4–19 are noise
// only. The noise is AR(1) over time, coefficient 0.6, unit variance.
//
// Each speaker adds an offset N(0, 0.5²) per channel and a gain exp(U[−0.4,
// 0.4]) per modality: x = offset + gain·(signal + noise). Raw values are
// then mean_j + scale_j·x with corpus-wide channel units mean_j ~ N(0, 2²),
// scale_j = exp(U[−1, 1]), as raw COVAREP and Facet features come in
// unrelated units. Per-feature standardization with train statistics
// removes the units; the speaker offsets and gains remain, and since the
// splits share no speaker, models must generalize across them.
//
// # Determinism
//
// All randomness comes from math/rand/v2 PCG streams seeded from
// Config.Seed (one for the corpus units and speakers, one per split), so a
// Config gives a byte-identical corpus on every run and Go version, and a
// split does not depend on the sample counts of the others. Generating the
// default corpus takes about 15 ms.
//
// # Ceilings
//
// The label noise bounds what any model can reach. The oracle that
// predicts the latent score is expected to reach, with DefaultConfig and
// any seed (DefaultCeiling; OracleCeiling computes it for any latents):
//
//	MAE 0.230, Acc-2 97.7/98.7 (has0/non0), Acc-7 75.7
//
// These are exact expectations over the label noise, averaged over the
// latents of 200 seeds; one 686-utterance test split scatters around them
// by about ±0.007 MAE and ±0.6 points of Acc-2 (one standard error).
// On verbal utterances the oracle is the Bayes-optimal predictor a model
// could learn from the words; on the other kinds a model can only estimate
// the latent from noisy voice and face, so there the ceiling is not
// reachable. The strictly Bayes-optimal use of the latent (the median of
// the label for MAE, P(label ≥ 0) > 1/2 for Acc-2 has0) gains only about
// 0.002 MAE and 0.1 point of Acc-2.
//
// For scale, on the test split of the default corpus (see
// TestBothSignalPathsExist) a ridge regression on word counts reaches an
// MAE about 0.8 times the constant predictor's, and one on mean audio and
// vision features about 0.65 times on the neutral-word utterances.
package synth
