package protocol

// A small reader for the members of plugin → daemon lines. encoding/json
// allocates a parser per call; these lines are the hot path (two per
// invocation, one per streamed chunk), so the few members read are picked
// out by hand from a line json.Valid has already accepted. Anything unusual
// (escaped keys, a non-object) makes Pick fail and the caller falls back to
// encoding/json.

// Pick finds the values of keys among the top-level members of the JSON
// object b, which must be valid JSON. out[i] receives the raw value of
// keys[i] (nil when absent). It reports false for what it does not read
// (escaped keys, a value that is not an object).
func Pick(b []byte, keys []string, out [][]byte) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	if i = skipSpace(b, i+1); i < len(b) && b[i] == '}' {
		return true
	}
	for i < len(b) && b[i] == '"' {
		j := i + 1
		for j < len(b) && b[j] != '"' {
			if b[j] == '\\' {
				return false
			}
			j++
		}
		key := b[i+1 : j]
		i = skipSpace(b, j+1) // at ':'
		i = skipSpace(b, i+1)
		end := skipValue(b, i)
		if end < 0 {
			return false
		}
		for k, want := range keys {
			if string(key) == want {
				out[k] = b[i:end]
			}
		}
		i = skipSpace(b, end)
		if i < len(b) && b[i] == '}' {
			return true
		}
		i = skipSpace(b, i+1) // past ','
	}
	return false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the index just past the JSON value starting at b[i].
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				e := skipString(b, i)
				if e < 0 {
					return -1
				}
				i = e - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return -1
	default: // number, true, false, null
		for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
			i++
		}
		return i
	}
}

// skipString returns the index just past the string starting at b[i].
func skipString(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// PlainString returns the contents of a JSON string without escapes; ok is
// false for other values and for strings that need unescaping. null (and an
// absent value) reads as "".
func PlainString(v []byte) ([]byte, bool) {
	if string(v) == "null" || v == nil {
		return nil, true
	}
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return nil, false
	}
	s := v[1 : len(v)-1]
	for _, c := range s {
		if c == '\\' {
			return nil, false
		}
	}
	return s, true
}
