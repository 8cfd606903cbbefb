package client

import "context"

// DebuggingKey returns the tenant's remote debugging key (Dify's
// POST debugging/key); it stays the same until regenerated.
func (c *Client) DebuggingKey(ctx context.Context) (string, error) {
	var out struct {
		Key string `json:"key"`
	}
	return out.Key, c.post(ctx, "debugging/key", struct{}{}, &out)
}

// RegenerateDebuggingKey replaces the tenant's remote debugging key and
// returns the new one.
func (c *Client) RegenerateDebuggingKey(ctx context.Context) (string, error) {
	var out struct {
		Key string `json:"key"`
	}
	return out.Key, c.post(ctx, "debugging/key/regenerate", struct{}{}, &out)
}
