package synth

// sentWord is one entry of the sentiment lexicon. Verbs carry their base
// form too, used after "didn't"/"don't" ("i didn't like it"); both forms
// have the same valence.
type sentWord struct {
	word    string  // adjective, or verb in the past tense
	base    string  // verb base form; empty for adjectives
	valence float64 // sentiment of the bare word, in [-3, 3]
}

// Adjectives used after a copula ("the plot was ...").
var (
	posAdjectives = []sentWord{
		{word: "okay", valence: 0.4}, {word: "decent", valence: 0.8},
		{word: "interesting", valence: 1.0}, {word: "nice", valence: 1.2},
		{word: "funny", valence: 1.2}, {word: "cool", valence: 1.2},
		{word: "sweet", valence: 1.2}, {word: "fun", valence: 1.4},
		{word: "good", valence: 1.5}, {word: "enjoyable", valence: 1.6},
		{word: "entertaining", valence: 1.6}, {word: "beautiful", valence: 2.0},
		{word: "great", valence: 2.2}, {word: "awesome", valence: 2.4},
		{word: "wonderful", valence: 2.4}, {word: "amazing", valence: 2.6},
		{word: "excellent", valence: 2.6}, {word: "fantastic", valence: 2.6},
		{word: "brilliant", valence: 2.6}, {word: "perfect", valence: 2.8},
	}
	negAdjectives = []sentWord{
		{word: "predictable", valence: -0.8}, {word: "slow", valence: -0.8},
		{word: "mediocre", valence: -1.0}, {word: "confusing", valence: -1.0},
		{word: "weak", valence: -1.2}, {word: "dull", valence: -1.4},
		{word: "bad", valence: -1.6}, {word: "lame", valence: -1.6},
		{word: "annoying", valence: -1.6}, {word: "ridiculous", valence: -1.6},
		{word: "boring", valence: -1.8}, {word: "disappointing", valence: -1.8},
		{word: "stupid", valence: -2.0}, {word: "pointless", valence: -2.0},
		{word: "terrible", valence: -2.6}, {word: "awful", valence: -2.6},
		{word: "horrible", valence: -2.6}, {word: "painful", valence: -2.4},
	}
	posVerbs = []sentWord{
		{word: "liked", base: "like", valence: 1.5},
		{word: "enjoyed", base: "enjoy", valence: 2.0},
		{word: "loved", base: "love", valence: 2.6},
		{word: "adored", base: "adore", valence: 2.8},
		{word: "appreciated", base: "appreciate", valence: 1.2},
	}
	negVerbs = []sentWord{
		{word: "disliked", base: "dislike", valence: -1.5},
		{word: "hated", base: "hate", valence: -2.6},
		{word: "regretted", base: "regret", valence: -1.8},
	}
)

// modifier is an intensifier or attenuator placed directly before a
// sentiment word; it multiplies the word's valence by scale.
type modifier struct {
	words string
	scale float64
}

// Modifiers for adjectives ("very good") and verbs ("really liked").
var (
	adjModifiers = []modifier{
		{"very", 1.4}, {"really", 1.4}, {"so", 1.4},
		{"extremely", 1.8}, {"incredibly", 1.8},
		{"pretty", 0.8}, {"kind of", 0.6},
	}
	verbModifiers = []modifier{
		{"really", 1.4}, {"totally", 1.6}, {"absolutely", 1.8},
		{"kind of", 0.6},
	}
)

// negationScale is applied to a sentiment word preceded by a negator:
// "not good" is mildly negative, "not terrible" mildly positive.
const negationScale = -0.5

// butWeights weight the two sentiment clauses of "A but B": the clause
// after "but" dominates. Without "but" the two are averaged.
var butWeights = [2]float64{0.25, 0.75}

// Neutral vocabulary: nothing below is a sentiment word, modifier, negator
// or "but".
var (
	nouns = []string{
		"movie", "film", "plot", "story", "acting", "ending", "script",
		"soundtrack", "cast", "director", "dialogue", "cinematography",
		"pacing", "humor", "trailer", "sequel", "music",
	}
	films   = []string{"movie", "film", "sequel", "remake"}
	persons = []string{
		"guy", "girl", "cop", "teacher", "doctor", "family", "kid",
		"soldier", "detective", "couple", "robot", "scientist",
	}
	actions = []string{
		"moves to a new city", "tries to find his father",
		"has to save the world", "loses her job",
		"goes back in time", "falls for a stranger",
		"gets stuck on an island", "finds out the truth about his family",
		"starts a band", "runs for mayor",
	}
	times = []string{
		"last weekend", "yesterday", "on friday", "a few weeks ago",
		"last night", "over the holidays", "this morning",
	}
	relatives = []string{"brother", "sister", "friends", "wife", "husband", "mom", "dad", "roommate"}
	sources   = []string{"book", "true story", "comic", "video game", "play"}
	media     = []string{"netflix", "dvd", "the plane", "my laptop", "cable"}
	ratings   = []string{"pg", "pg thirteen", "r"}
	lengths   = []string{"two", "three", "an hour and a half", "two and a half"}
	prefixes  = []string{"um", "uh", "so", "well", "and", "you know", "i mean", "honestly", "anyway", "alright"}
	suffixes  = []string{"i guess", "you know", "to be honest", "overall", "i would say", "for me", "in my opinion"}
)

// neutralTemplates are utterances with no sentiment word. Placeholders:
// {film} {person} {action} {time} {relative} {source} {medium} {rating}
// {length}.
var neutralTemplates = []string{
	"the {film} is about a {person} who {action}",
	"i saw the {film} {time}",
	"i went to see it {time} with my {relative}",
	"it is about {length} hours long",
	"the {film} came out {time}",
	"the main character is a {person}",
	"it is based on a {source}",
	"there is a scene where the {person} {action}",
	"i watched it on {medium} {time}",
	"it is rated {rating}",
	"my {relative} told me to see the {film}",
	"the {film} was made by the same people who did the first one",
	"in the {film} a {person} {action}",
}

// Clause templates carrying one sentiment word: {pred} is the copula or
// verb phrase ending in it ("was not very good", "didn't really like").
var (
	adjTemplates = []string{
		"the {noun} {pred}",
		"i thought the {noun} {pred}",
		"i think the {noun} {pred}",
		"it {pred}",
		"this {noun} {pred}",
	}
	verbTemplates = []string{
		"i {pred} the {noun}",
		"i {pred} it",
		"i {pred} this {noun}",
		"my {relative} and i {pred} the {noun}",
	}
)
