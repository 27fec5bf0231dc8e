// An independent check of Strata's audit ledger: the proofs `strata audit
// prove` and `strata audit consistency` print are verified here with the
// transparency-dev Merkle library (RFC 9162), and the checkpoint with Go's
// signed-note implementation, sharing no code with Strata.
//
//	go run . inclusion PROOF.json     # from `strata audit prove EVENT`
//	go run . consistency PROOF.json   # from `strata audit consistency OLD NEW`
package main

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

type inclusion struct {
	Event       string   `json:"event"`
	LeafIndex   uint64   `json:"leaf_index"`
	TreeSize    uint64   `json:"tree_size"`
	LeafHash    string   `json:"leaf_hash"`
	Root        string   `json:"root"`
	Proof       []string `json:"proof"`
	Checkpoint  string   `json:"checkpoint"`
	VerifierKey string   `json:"verifier_key"`
}

type consistency struct {
	OldSize uint64   `json:"old_size"`
	NewSize uint64   `json:"new_size"`
	OldRoot string   `json:"old_root"`
	NewRoot string   `json:"new_root"`
	Proof   []string `json:"proof"`
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "go verifier: "+format+"\n", args...)
	os.Exit(1)
}

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		fail("not a SHA-256 hash: %q", s)
	}
	return b
}

func hashes(list []string) [][]byte {
	out := make([][]byte, 0, len(list))
	for _, h := range list {
		out = append(out, unhex(h))
	}
	return out
}

func read(path string, into any) {
	data, err := os.ReadFile(path)
	if err != nil {
		fail("%v", err)
	}
	if err := json.Unmarshal(data, into); err != nil {
		fail("%s: %v", path, err)
	}
}

func main() {
	if len(os.Args) != 3 {
		fail("usage: inclusion|consistency FILE")
	}
	switch os.Args[1] {
	case "inclusion":
		var p inclusion
		read(os.Args[2], &p)
		// The checkpoint: signed by the key, and naming the proof's tree.
		verifier, err := note.NewVerifier(p.VerifierKey)
		if err != nil {
			fail("verifier key: %v", err)
		}
		n, err := note.Open([]byte(p.Checkpoint), note.VerifierList(verifier))
		if err != nil {
			fail("checkpoint signature: %v", err)
		}
		lines := strings.Split(strings.TrimSuffix(n.Text, "\n"), "\n")
		if len(lines) < 3 || lines[0] != verifier.Name() {
			fail("checkpoint body: %q", n.Text)
		}
		size, err := strconv.ParseUint(lines[1], 10, 64)
		root, err2 := base64.StdEncoding.DecodeString(lines[2])
		if err != nil || err2 != nil || size != p.TreeSize || hex.EncodeToString(root) != p.Root {
			fail("the checkpoint signs size %s root %s, the proof says %d %s", lines[1], lines[2], p.TreeSize, p.Root)
		}
		if err := proof.VerifyInclusion(rfc6962.DefaultHasher, p.LeafIndex, p.TreeSize, unhex(p.LeafHash),
			hashes(p.Proof), root); err != nil {
			fail("inclusion of event %s: %v", p.Event, err)
		}
		fmt.Printf("ok: event %s is leaf %d of the %d-leaf tree signed by %s\n", p.Event, p.LeafIndex, p.TreeSize, verifier.Name())
	case "consistency":
		var p consistency
		read(os.Args[2], &p)
		if err := proof.VerifyConsistency(rfc6962.DefaultHasher, p.OldSize, p.NewSize, hashes(p.Proof),
			unhex(p.OldRoot), unhex(p.NewRoot)); err != nil {
			fail("consistency %d -> %d: %v", p.OldSize, p.NewSize, err)
		}
		fmt.Printf("ok: the %d-leaf tree extends the %d-leaf tree\n", p.NewSize, p.OldSize)
	default:
		fail("unknown check %q", os.Args[1])
	}
}
