package passphrase

import (
	"errors"
	"strings"
	"testing"
)

func TestReadNew(t *testing.T) {
	for _, c := range []struct {
		in   string
		want error
	}{
		{"correct horse\ncorrect horse\n", nil},
		{"correct horse\r\ncorrect horse", nil},
		{"first choice\nsecond choice\n", ErrDiffer},
		{"\ncorrect horse\n", ErrEmpty},
		{"correct horse\n", ErrDiffer}, // no second line
	} {
		var stderr strings.Builder
		p, err := ReadNew(strings.NewReader(c.in), &stderr)
		if !errors.Is(err, c.want) {
			t.Errorf("ReadNew(%q) = %v, want %v", c.in, err, c.want)
			continue
		}
		if c.want == nil && p.Reveal() != "correct horse" {
			t.Errorf("ReadNew(%q) read the wrong passphrase", c.in)
		}
		if c.want != nil && !p.IsZero() {
			t.Errorf("ReadNew(%q) failed but returned a passphrase", c.in)
		}
	}
}

func TestReadOnce(t *testing.T) {
	p, err := Read(strings.NewReader("battery staple\nmore\n"), new(strings.Builder), "keyfob passphrase: ")
	if err != nil || p.Reveal() != "battery staple" {
		t.Errorf("Read = %v, want the first line", err)
	}
}
