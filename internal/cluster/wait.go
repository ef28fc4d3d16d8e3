package cluster

import (
	"context"
	"fmt"
	"time"
)

// pollInterval is how often start-up and discovery conditions are re-checked.
const pollInterval = 25 * time.Millisecond

// WaitFor calls cond now and then every interval until it reports true or ctx
// ends. The returned error wraps ctx.Err() and quotes the last error cond
// returned, which is usually the reason the wait failed.
func WaitFor(ctx context.Context, interval time.Duration, cond func() (bool, error)) error {
	if interval <= 0 {
		interval = pollInterval
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	var last error
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("wait: %w (last error: %v)", ctx.Err(), last)
			}
			return fmt.Errorf("wait: %w", ctx.Err())
		case <-ticker.C:
		}
	}
}
