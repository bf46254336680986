package tokenize

import (
	"reflect"
	"testing"
)

// TestNormalizer checks each BertNormalizer step on its own and together
// against hand-written outputs of huggingface/tokenizers' bert.rs.
func TestNormalizer(t *testing.T) {
	clean := Normalizer{CleanText: true}
	cjk := Normalizer{HandleChineseChars: true}
	strip := Normalizer{StripAccents: true}
	lower := Normalizer{Lowercase: true}
	uncased := Normalizer{CleanText: true, HandleChineseChars: true, StripAccents: true, Lowercase: true}
	tests := []struct {
		name string
		n    Normalizer
		in   string
		want string
	}{
		{"nothing set keeps text", Normalizer{}, "A\u00a0É\x00中", "A\u00a0É\x00中"},
		{"nothing set reads bad UTF-8 as U+FFFD", Normalizer{}, "a\xffb", "a\ufffdb"},
		// NBSP, U+3000, U+2028 → ' '; NUL, BEL, ZWSP (Cf), U+FFFD, private use dropped;
		// \x0b, \x0c, \x85 are Cc, so dropped before the whitespace mapping.
		{"clean", clean, "a\u00a0b\u3000c\x00\x07\u200b\ufffd\ue000d\te\nf\rg\x0bh\x0ci\x85j\u2028k",
			"a b cd e f ghij k"},
		{"clean drops bad UTF-8", clean, "a\xff\xfeb", "ab"},
		{"clean keeps unassigned (Cn)", clean, "a\u0378b", "a\u0378b"},
		{"cjk pads ideographs only", cjk, "中文abcかな한", " 中  文 abcかな한"},
		{"cjk ranges as in bert.rs", cjk, "\U0002B820\U0002B920\U0002F800\uF900",
			"\U0002B820 \U0002B920  \U0002F800  \uF900 "},
		{"strip without lowercase", strip, "Ça Déjà Å ﬁ が", "Ca Deja A ﬁ か"},
		{"strip composed and decomposed alike", strip, "e\u0301 é", "e e"},
		{"lowercase per character", lower, "ÀÉÎ ΟΔΟΣ ＡＢ", "àéî οδοσ ａｂ"},
		{"lowercase dotted I to two runes", lower, "İ", "i\u0307"},
		{"uncased dotted I", uncased, "İstanbul", "istanbul"},
		{"uncased everything", uncased, "Ünïcödé\u00a0中\u200bΣ", "unicode  中 σ"},
	}
	for _, tt := range tests {
		if got := tt.n.Normalize(tt.in); got != tt.want {
			t.Errorf("%s: Normalize(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestPreTokenize(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"   ", nil},
		{"Hello, world!  it's", []string{"Hello", ",", "world", "!", "it", "'", "s"}},
		{"$5+€5 ©«a»", []string{"$", "5", "+", "€5", "©", "«", "a", "»"}},
		{"a\u3000b\tc", []string{"a", "b", "c"}},
	}
	for _, tt := range tests {
		if got := preTokenize(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("preTokenize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
