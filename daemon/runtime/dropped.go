package runtime

import (
	"bytes"
	"regexp"

	"github.com/plugboard/plugboard"
)

// droppedEnd is how much of each end of an over-long line is kept: enough
// for the envelope's session_id, which a plugin writes before or after its
// (large) data.
const droppedEnd = 4 << 10

// droppedLine holds the head and tail of the last line over the limit.
type droppedLine struct {
	head, tail []byte
}

func (d *droppedLine) start(head []byte) {
	d.head = append(d.head[:0], head[:min(len(head), droppedEnd)]...)
	d.tail = d.tail[:0]
}

// keepTail appends part and keeps only the last droppedEnd bytes.
func (d *droppedLine) keepTail(part []byte) {
	if len(part) >= droppedEnd {
		d.tail = append(d.tail[:0], part[len(part)-droppedEnd:]...)
		return
	}
	d.tail = append(d.tail, part...)
	if len(d.tail) > 2*droppedEnd {
		d.tail = append(d.tail[:0], d.tail[len(d.tail)-droppedEnd:]...)
	}
}

var sessionIDMember = regexp.MustCompile(`"session_id"\s*:\s*"([^"\\]{1,200})"`)

// sessionIDs returns the session ids named in the kept ends, head first.
func (d *droppedLine) sessionIDs() [][]byte {
	var ids [][]byte
	for _, part := range [][]byte{d.head, d.tail} {
		for _, m := range sessionIDMember.FindAllSubmatch(part, -1) {
			ids = append(ids, bytes.Clone(m[1]))
		}
	}
	return ids
}

// failDropped ends the session the last over-long line belonged to, if it
// names an open one: its message is lost, so the call cannot succeed. The
// plugin is told to stop it; the conn itself stays in step (the line was
// read to its end) and serves other sessions on.
func (c *conn) failDropped() {
	for _, id := range c.dropped.sessionIDs() {
		if s := c.lookup(id); s != nil {
			s.finish(plugboard.Errorf(plugboard.EUNAVAILABLE,
				"plugin %s sent a message over the %s line limit; it was discarded and the call stopped",
				c.pluginID, mib(int64(c.maxLine))), true)
			return
		}
	}
}
