// Package datasets reads and prepares the data FD-CMDIE trains on (SPEC §9):
// MMSA pickles (CMU-MOSI, CMU-MOSEI; aligned and unaligned), the embedded
// synthetic MOSI-like corpus, tokenization and fixed-shape batching.
package datasets
