// Shared by kern6x16 and kern12x16.

// Prefetches the two cache lines of a 16-float row of C at AX (rows need
// not be aligned) and moves AX to the next row: a tile's rows of C are
// requested before its k loop, which then hides their load from memory
// (attention's scores go to a large array of probabilities, a layer's
// output to memory not yet in cache) instead of stalling the stores.
#define FETCHROW \
	PREFETCHT0 (AX); \
	PREFETCHT0 60(AX); \
	ADDQ R8, AX

// FETCHROW for six rows, a panel of the micro-kernel.
#define FETCH6 \
	FETCHROW; \
	FETCHROW; \
	FETCHROW; \
	FETCHROW; \
	FETCHROW; \
	FETCHROW
