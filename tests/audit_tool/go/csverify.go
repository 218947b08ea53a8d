// csverify: an independent cross-check of the countersign_audit library with Go's
// golang.org/x/mod/sumdb/note and .../sumdb/tlog (test_go_crosscheck.py builds and runs it).
//
// Input (JSON on stdin): the log's vkey, a cosigner vkey, the checkpoint note, the files the
// tool's LogWriter wrote (C2SP tile paths, base64), and proofs the tool generated.
// It checks, with x/mod: the note signature; every tile byte for byte against hashes x/mod
// computes from the entry bundles itself (x/mod's TileHashReader alone is not trusted to catch
// a tampered level-0 tile); the tree hash read through TileHashReader; every inclusion proof
// (CheckRecord) and consistency proof (CheckTree). The 0x04 cosignature needs a few lines here.
// Prints "OK ..." and exits 0, or prints the first failure and exits 1.
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type inclusion struct {
	Index int64    `json:"index"`
	Size  int64    `json:"size"`
	Root  string   `json:"root"`
	Proof []string `json:"proof"`
}

type consistency struct {
	Old     int64    `json:"old"`
	New     int64    `json:"new"`
	OldRoot string   `json:"old_root"`
	NewRoot string   `json:"new_root"`
	Proof   []string `json:"proof"`
}

type input struct {
	Vkey        string            `json:"vkey"`
	Cosigner    string            `json:"cosigner"`
	Note        string            `json:"note"`
	Files       map[string]string `json:"files"`
	Inclusion   []inclusion       `json:"inclusion"`
	Consistency []consistency     `json:"consistency"`
}

func fail(format string, args ...interface{}) {
	fmt.Printf("FAIL: "+format+"\n", args...)
	os.Exit(1)
}

func b64(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		fail("base64: %v", err)
	}
	return b
}

func hash(s string) tlog.Hash {
	var h tlog.Hash
	b := b64(s)
	if len(b) != tlog.HashSize {
		fail("hash length %d", len(b))
	}
	copy(h[:], b)
	return h
}

// c2spPath maps an x/mod tile (height 8) to its C2SP tlog-tiles path.
func c2spPath(t tlog.Tile) string {
	digits := fmt.Sprintf("%03d", t.N)
	for len(digits)%3 != 0 {
		digits = "0" + digits
	}
	var parts []string
	for i := 0; i < len(digits); i += 3 {
		parts = append(parts, digits[i:i+3])
	}
	for i := 0; i < len(parts)-1; i++ {
		parts[i] = "x" + parts[i]
	}
	level := strconv.Itoa(t.L)
	if t.L < 0 {
		level = "entries"
	}
	p := "tile/" + level + "/" + strings.Join(parts, "/")
	if t.W != 1<<uint(t.H) {
		p += fmt.Sprintf(".p/%d", t.W)
	}
	return p
}

type files map[string][]byte

func (f files) Height() int { return 8 }
func (f files) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		data, ok := f[c2spPath(t)]
		if !ok {
			return nil, fmt.Errorf("missing tile %s", c2spPath(t))
		}
		out[i] = data
	}
	return out, nil
}
func (f files) SaveTiles([]tlog.Tile, [][]byte) {}

type memory []tlog.Hash

func (m memory) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x >= int64(len(m)) {
			return nil, fmt.Errorf("hash %d not stored", x)
		}
		out[i] = m[x]
	}
	return out, nil
}

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fail("input: %v", err)
	}
	fs := files{}
	for p, d := range in.Files {
		fs[p] = b64(d)
	}

	// The signed checkpoint, through x/mod's note package.
	v, err := note.NewVerifier(in.Vkey)
	if err != nil {
		fail("vkey: %v", err)
	}
	n, err := note.Open([]byte(in.Note), note.VerifierList(v))
	if err != nil {
		fail("note: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) != 4 || lines[3] != "" || lines[0] != v.Name() {
		fail("checkpoint body %q", n.Text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || strconv.FormatInt(size, 10) != lines[1] {
		fail("checkpoint size %q", lines[1])
	}
	root := hash(lines[2])

	// The 0x04 cosignature: key id over name, 0x0A, 0x04, key; message cosignature/v1.
	if in.Cosigner != "" {
		parts := strings.SplitN(in.Cosigner, "+", 3)
		raw := b64(parts[2])
		if len(raw) != 33 || raw[0] != 0x04 {
			fail("cosigner key type")
		}
		id := sha256.Sum256(append([]byte(parts[0]+"\n\x04"), raw[1:]...))
		if fmt.Sprintf("%08x", id[:4]) != parts[1] {
			fail("cosigner key id")
		}
		found := false
		for _, s := range n.UnverifiedSigs {
			sig := b64(s.Base64)
			if s.Name != parts[0] || !bytes.Equal(sig[:4], id[:4]) || len(sig) != 76 {
				continue
			}
			ts := binary.BigEndian.Uint64(sig[4:12])
			msg := []byte(fmt.Sprintf("cosignature/v1\ntime %d\n", ts) + n.Text)
			if !ed25519.Verify(ed25519.PublicKey(raw[1:]), msg, sig[12:]) {
				fail("cosignature does not verify")
			}
			found = true
		}
		if !found {
			fail("no cosignature by %s", parts[0])
		}
	}

	// Record hashes from the entry bundles, stored hashes computed by x/mod itself.
	var stored memory
	var count int64
	for count < size {
		w := size - count
		if w > 256 {
			w = 256
		}
		t := tlog.Tile{H: 8, L: -1, N: count / 256, W: int(w)}
		data, ok := fs[c2spPath(t)]
		if !ok {
			fail("missing bundle %s", c2spPath(t))
		}
		for len(data) > 0 {
			l := int(binary.BigEndian.Uint16(data))
			entry := data[2 : 2+l]
			data = data[2+l:]
			hs, err := tlog.StoredHashes(count, entry, stored)
			if err != nil {
				fail("stored hashes: %v", err)
			}
			stored = append(stored, hs...)
			count++
		}
	}
	if count != size {
		fail("bundles hold %d entries, checkpoint says %d", count, size)
	}
	th, err := tlog.TreeHash(size, stored)
	if err != nil || th != root {
		fail("x/mod's tree hash of the entries differs from the checkpoint root")
	}
	// Every tile the tool wrote for this size equals x/mod's tile data. x/mod lists every
	// partial width from 1 up (Go's sumdb serves them all); a C2SP checkpoint implies only
	// the widest partial tile of each level.
	var tiles []tlog.Tile
	widest := map[[2]int64]int{}
	for _, t := range tlog.NewTiles(8, 0, size) {
		key := [2]int64{int64(t.L), t.N}
		if i, ok := widest[key]; ok {
			tiles[i] = t
			continue
		}
		widest[key] = len(tiles)
		tiles = append(tiles, t)
	}
	for _, t := range tiles {
		want, err := tlog.ReadTileData(t, stored)
		if err != nil {
			fail("read tile data: %v", err)
		}
		if !bytes.Equal(fs[c2spPath(t)], want) {
			fail("tile %s differs from x/mod's", c2spPath(t))
		}
	}
	// The tree hash read through x/mod's tile reader.
	hr := tlog.TileHashReader(tlog.Tree{N: size, Hash: root}, fs)
	if th, err := tlog.TreeHash(size, hr); err != nil || th != root {
		fail("tree hash through TileHashReader: %v", err)
	}

	for _, p := range in.Inclusion {
		proof := make(tlog.RecordProof, len(p.Proof))
		for i, h := range p.Proof {
			proof[i] = hash(h)
		}
		leaf, err := stored.ReadHashes([]int64{tlog.StoredHashIndex(0, p.Index)})
		if err != nil {
			fail("leaf %d: %v", p.Index, err)
		}
		if err := tlog.CheckRecord(proof, p.Size, hash(p.Root), p.Index, leaf[0]); err != nil {
			fail("inclusion %d in %d: %v", p.Index, p.Size, err)
		}
	}
	for _, p := range in.Consistency {
		proof := make(tlog.TreeProof, len(p.Proof))
		for i, h := range p.Proof {
			proof[i] = hash(h)
		}
		if err := tlog.CheckTree(proof, p.New, hash(p.NewRoot), p.Old, hash(p.OldRoot)); err != nil {
			fail("consistency %d -> %d: %v", p.Old, p.New, err)
		}
	}
	fmt.Printf("OK size %d, %d tiles, %d inclusion and %d consistency proofs\n",
		size, len(tiles), len(in.Inclusion), len(in.Consistency))
}
