package invoke

import (
	"context"
	"fmt"

	"github.com/plugboard/plugboard/store"
)

// Follow reads a run as stored and its events after the one numbered
// after, and returns with them a channel closed at the run's next change
// (nil when no invocation in this process runs it). The channel is taken
// before reading, so no change is missed. A run recorded as running that
// nothing runs any more (an earlier process's) is marked failed first.
func (s *Service) Follow(ctx context.Context, runID string, after int) (*store.Run, []store.RunEvent, <-chan struct{}, error) {
	if lr := s.live.get(runID); lr != nil {
		s.unbuffer(lr) // its messages so far are stored before they are read
	}
	changed := s.live.wait(runID)
	r, err := s.read(ctx, runID)
	if err != nil {
		return nil, nil, nil, err
	}
	if changed == nil && r.Running() {
		if err := s.store.FinishRun(ctx, r.ID, store.RunFailed, interrupted); err != nil {
			return nil, nil, nil, fmt.Errorf("mark the interrupted run failed: %w", err)
		}
		if r, err = s.read(ctx, runID); err != nil {
			return nil, nil, nil, err
		}
		if r.Running() {
			return nil, nil, nil, fmt.Errorf("run is still running after it was marked interrupted")
		}
	}
	// The status was read first: a run recorded as ended has stored all
	// of its messages, so this read gets the last of them.
	evs, err := s.store.RunEvents(ctx, r.ID, after)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read the run's messages: %w", err)
	}
	return r, evs, changed, nil
}

func (s *Service) read(ctx context.Context, runID string) (*store.Run, error) {
	r, err := s.store.FindRun(ctx, runID)
	if err != nil {
		return nil, fmt.Errorf("read the run: %w", err)
	}
	return r, nil
}
