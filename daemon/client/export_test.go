package client

import "net/http"

// HTTPClientOf is the HTTP client c sends its requests with.
func HTTPClientOf(c *Client) *http.Client { return c.hc }
