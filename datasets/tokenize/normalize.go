package tokenize

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Normalizer holds the settings of a Hugging Face BertNormalizer and applies
// them in huggingface/tokenizers' order (normalizers/bert.rs): clean text,
// pad CJK ideographs, strip accents, lowercase.
type Normalizer struct {
	// CleanText drops U+0000, U+FFFD and control characters (Cc, Cf, Co
	// except \t, \n, \r) and turns every Unicode whitespace into ' '.
	CleanText bool
	// HandleChineseChars puts a space on each side of a CJK ideograph so
	// that each becomes a word of its own.
	HandleChineseChars bool
	// StripAccents decomposes the text (NFD) and drops nonspacing marks (Mn).
	StripAccents bool
	// Lowercase lowercases each character on its own, as Rust's
	// char::to_lowercase does (no context-dependent final sigma).
	Lowercase bool
}

// Normalize returns text as the Hugging Face BertNormalizer with n's settings
// would. Invalid UTF-8 bytes are read as U+FFFD, which CleanText drops.
func (n Normalizer) Normalize(text string) string {
	var b strings.Builder
	b.Grow(len(text))
	for _, r := range text {
		if n.CleanText {
			if r == 0 || r == unicode.ReplacementChar || isControl(r) {
				continue
			}
			if isWhitespace(r) {
				r = ' '
			}
		}
		if n.HandleChineseChars && isChineseChar(r) {
			b.WriteByte(' ')
			b.WriteRune(r)
			b.WriteByte(' ')
			continue
		}
		b.WriteRune(r)
	}
	s := b.String()
	if n.StripAccents {
		s = strings.Map(dropNonspacingMark, norm.NFD.String(s))
	}
	if n.Lowercase {
		s = lowercase(s)
	}
	return s
}

// isWhitespace is bert.rs' is_whitespace: \t, \n, \r and Unicode White_Space.
func isWhitespace(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' || unicode.IsSpace(r)
}

// isControl is bert.rs' is_control: unicode_categories' is_other, which is
// Cc, Cf and Co (not Cn, despite the comment there), less \t, \n and \r.
func isControl(r rune) bool {
	if r == '\t' || r == '\n' || r == '\r' {
		return false
	}
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co)
}

// isChineseChar is bert.rs' is_chinese_char, ranges copied as they are there
// (0x2B920 rather than 0x2B820 included).
func isChineseChar(r rune) bool {
	switch {
	case r >= 0x4E00 && r <= 0x9FFF,
		r >= 0x3400 && r <= 0x4DBF,
		r >= 0x20000 && r <= 0x2A6DF,
		r >= 0x2A700 && r <= 0x2B73F,
		r >= 0x2B740 && r <= 0x2B81F,
		r >= 0x2B920 && r <= 0x2CEAF,
		r >= 0xF900 && r <= 0xFAFF,
		r >= 0x2F800 && r <= 0x2FA1F:
		return true
	}
	return false
}

// isBertPunct is the BertPreTokenizer's is_bert_punc: ASCII punctuation or
// any Unicode punctuation (P*).
func isBertPunct(r rune) bool {
	if r < 0x80 {
		return (r >= '!' && r <= '/') || (r >= ':' && r <= '@') ||
			(r >= '[' && r <= '`') || (r >= '{' && r <= '~')
	}
	return unicode.IsPunct(r)
}

func dropNonspacingMark(r rune) rune {
	if unicode.Is(unicode.Mn, r) {
		return -1
	}
	return r
}

// lowercase maps each rune to its lowercase form as Rust's char::to_lowercase
// does. The one unconditional multi-rune lowercase mapping in Unicode's
// SpecialCasing.txt, U+0130 → "i\u0307", is not in Go's simple case tables.
func lowercase(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r == '\u0130' {
			b.WriteString("i\u0307")
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// preTokenize splits normalized text like Hugging Face's BertPreTokenizer:
// whitespace separates words and is dropped, each punctuation character is a
// word of its own.
func preTokenize(s string) []string {
	var words []string
	start := -1
	for i, r := range s {
		switch {
		case unicode.IsSpace(r):
			if start >= 0 {
				words = append(words, s[start:i])
				start = -1
			}
		case isBertPunct(r):
			if start >= 0 {
				words = append(words, s[start:i])
				start = -1
			}
			words = append(words, string(r))
		default:
			if start < 0 {
				start = i
			}
		}
	}
	if start >= 0 {
		words = append(words, s[start:])
	}
	return words
}
