package tokenize_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/fdcmdie/fdcmdie/datasets/tokenize"
)

// Build a vocabulary from a corpus, write it as a tokenizer.json, load it
// back and encode a fixed-shape batch.
func Example() {
	dir, err := os.MkdirTemp("", "tokenize-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	vocab := tokenize.BuildVocab([]string{"The movie was great.", "A great, great cast!"}, 1)
	path := filepath.Join(dir, "tokenizer.json")
	if err := tokenize.WriteWordPiece(path, vocab, true); err != nil {
		log.Fatal(err)
	}
	tk, err := tokenize.Load(path)
	if err != nil {
		log.Fatal(err)
	}

	ids, tokens, err := tk.Encode("The cast was GREAT!", 0)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tokens, ids)

	batch, lengths, err := tk.EncodeBatch([]string{"Great movie", "the movies!"}, 6)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(batch, lengths)
	// Output:
	// [[CLS] the cast was great ! [SEP]] [2 12 10 13 5 6 3]
	// [[2 5 11 3 0 0] [2 12 11 38 6 3]] [4 6]
}
