package client

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// encoding/json matches an object's keys to struct fields ignoring case
// (with Unicode folding: "ſ" reads as "s") and lets the last of two equal
// keys win, so {"op":"get","OP":"lock"} would decode as a lock. checkKeys
// walks a message that json has already found valid and refuses what makes
// it ambiguous: a key that is not a field's name but folds to one, and a
// key that appears twice in one object, at any depth. Keys that are not
// fields at all stay ignored (docs/protocol.md).

// shape is what a message may hold at one place: an object's fields, a
// map's or an array's elements. A nil shape is a value keyfob does not look
// into (a string, a number, an unknown field): its objects are only checked
// for duplicate keys.
type shape struct {
	// fields are a struct's keys; nil for a map or an array.
	fields map[string]*shape
	// folded maps the folded form of each field's key to the key.
	folded map[string]string
	// elem is the shape of a map's values or an array's elements.
	elem *shape
}

var (
	requestShape = sync.OnceValue(func() *shape {
		return shapeOf(reflect.TypeFor[Request](), "secret", "refresh")
	})
	responseShape = sync.OnceValue(func() *shape {
		return shapeOf(reflect.TypeFor[Response](), "secret", "refresh")
	})
)

var unmarshalerTypes = []reflect.Type{reflect.TypeFor[json.Unmarshaler](), reflect.TypeFor[encoding.TextUnmarshaler]()}

// shapeOf describes t as encoding/json reads it; extra adds keys that a
// wire wrapper decodes beside t's fields.
func shapeOf(t reflect.Type, extra ...string) *shape {
	for _, u := range unmarshalerTypes {
		if t.Implements(u) || reflect.PointerTo(t).Implements(u) {
			return nil // time.Time and the like read a string
		}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return shapeOf(t.Elem())
	case reflect.Slice, reflect.Array:
		if e := shapeOf(t.Elem()); e != nil {
			return &shape{elem: e}
		}
		return nil
	case reflect.Map:
		return &shape{elem: shapeOf(t.Elem())}
	case reflect.Struct:
		s := &shape{fields: map[string]*shape{}, folded: map[string]string{}}
		add := func(name string, sub *shape) {
			s.fields[name] = sub
			s.folded[string(foldName([]byte(name)))] = name
		}
		for f := range t.Fields() {
			if !f.IsExported() || f.Anonymous {
				continue // the wire types embed nothing
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			switch name {
			case "-":
				continue
			case "":
				name = f.Name
			}
			add(name, shapeOf(f.Type))
		}
		for _, name := range extra {
			add(name, nil)
		}
		return s
	}
	return nil
}

// errAmbiguous marks a message refused by checkKeys.
var errAmbiguous = errors.New("ambiguous keys")

// maxDepth is encoding/json's nesting limit; checkKeys only sees messages
// json accepted, so it never goes deeper.
const maxDepth = 10000

// checkKeys walks b, a JSON value that encoding/json accepts, against sh.
func checkKeys(b []byte, sh *shape) error {
	w := walker{b: b}
	w.ws()
	return w.value(sh, 0)
}

type walker struct {
	b []byte
	i int
}

func (w *walker) ws() {
	for w.i < len(w.b) && (w.b[w.i] == ' ' || w.b[w.i] == '\t' || w.b[w.i] == '\r' || w.b[w.i] == '\n') {
		w.i++
	}
}

func (w *walker) peek() byte {
	if w.i < len(w.b) {
		return w.b[w.i]
	}
	return 0
}

var errWalk = fmt.Errorf("%w: unexpected input", errAmbiguous)

func (w *walker) value(sh *shape, depth int) error {
	if depth > maxDepth {
		return errWalk
	}
	switch w.peek() {
	case '{':
		return w.object(sh, depth)
	case '[':
		return w.array(sh, depth)
	case '"':
		_, err := w.str(false)
		return err
	case 0:
		return errWalk
	}
	// A number or a literal: json has checked it, so it ends at the next
	// delimiter.
	for w.i < len(w.b) {
		switch w.b[w.i] {
		case ',', ']', '}', ' ', '\t', '\r', '\n':
			return nil
		}
		w.i++
	}
	return nil
}

func (w *walker) array(sh *shape, depth int) error {
	w.i++ // [
	var elem *shape
	if sh != nil {
		elem = sh.elem
	}
	w.ws()
	if w.peek() == ']' {
		w.i++
		return nil
	}
	for {
		w.ws()
		if err := w.value(elem, depth+1); err != nil {
			return err
		}
		w.ws()
		switch w.peek() {
		case ',':
			w.i++
		case ']':
			w.i++
			return nil
		default:
			return errWalk
		}
	}
}

// str reads a string. With decode, it returns the string's value as
// encoding/json decodes it, without a copy when it has no escapes and is
// valid UTF-8. Values are skipped, never decoded: one may be a secret.
func (w *walker) str(decode bool) ([]byte, error) {
	start := w.i
	w.i++ // "
	plain := true
	for w.i < len(w.b) {
		switch c := w.b[w.i]; {
		case c == '"':
			w.i++
			raw := w.b[start:w.i]
			if !decode {
				return nil, nil
			}
			if plain {
				return raw[1 : len(raw)-1], nil
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, errWalk
			}
			return []byte(s), nil
		case c == '\\':
			plain = false
			w.i += 2
		case c >= utf8.RuneSelf:
			plain = false
			w.i++
		default:
			w.i++
		}
	}
	return nil, errWalk
}

func (w *walker) object(sh *shape, depth int) error {
	w.i++ // {
	var buf [16][]byte
	seen := buf[:0]
	var many map[string]struct{}
	w.ws()
	if w.peek() == '}' {
		w.i++
		return nil
	}
	for {
		w.ws()
		if w.peek() != '"' {
			return errWalk
		}
		key, err := w.str(true)
		if err != nil {
			return err
		}
		if many == nil && len(seen) < len(buf) {
			for _, k := range seen {
				if bytes.Equal(k, key) {
					return duplicate(key)
				}
			}
			seen = append(seen, key)
		} else {
			if many == nil {
				many = make(map[string]struct{}, 2*len(seen))
				for _, k := range seen {
					many[string(k)] = struct{}{}
				}
			}
			if _, dup := many[string(key)]; dup {
				return duplicate(key)
			}
			many[string(key)] = struct{}{}
		}
		var sub *shape
		if sh != nil {
			if sh.fields == nil {
				sub = sh.elem // a map: any key
			} else if s, ok := sh.fields[string(key)]; ok {
				sub = s
			} else if name, ok := sh.folded[string(foldName(key))]; ok {
				return fmt.Errorf("%w: key %s is not %q (keys are case-sensitive)", errAmbiguous, quoteKey(key), name)
			}
		}
		w.ws()
		if w.peek() != ':' {
			return errWalk
		}
		w.i++
		w.ws()
		if err := w.value(sub, depth+1); err != nil {
			return err
		}
		w.ws()
		switch w.peek() {
		case ',':
			w.i++
		case '}':
			w.i++
			return nil
		default:
			return errWalk
		}
	}
}

func duplicate(key []byte) error {
	return fmt.Errorf("%w: duplicate key %s", errAmbiguous, quoteKey(key))
}

// quoteKey quotes a key for an error, cut short: a peer chose it.
func quoteKey(key []byte) string {
	if len(key) > 40 {
		return fmt.Sprintf("%q…", key[:40])
	}
	return fmt.Sprintf("%q", key)
}

// foldName folds a key as encoding/json does to match it to a field:
// ASCII letters to upper case, other runes to the smallest of their
// Unicode fold set.
func foldName(in []byte) []byte {
	out := make([]byte, 0, len(in))
	for i := 0; i < len(in); {
		if c := in[i]; c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			out = append(out, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(in[i:])
		for {
			r2 := unicode.SimpleFold(r)
			if r2 <= r {
				r = r2
				break
			}
			r = r2
		}
		out = utf8.AppendRune(out, r)
		i += n
	}
	return out
}
