// Command bodyload is the load of bench/serve-memory.sh: a number of
// clients that each post the same large V2 inference body in a loop for a
// bounded time, waiting Retry-After when the server answers 503. It prints
// the count of answers by status and of transport errors.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:18090/v2/models/house-prices/infer", "V2 infer URL")
	clients := flag.Int("clients", 50, "concurrent clients")
	size := flag.Int("bytes", 14<<20, "request body size in bytes")
	duration := flag.Duration("duration", 20*time.Second, "how long to send")
	flag.Parse()
	body := v2Body(*size)
	ctx, cancel := context.WithTimeout(context.Background(), *duration)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *clients}}
	var (
		mu     sync.Mutex
		counts = map[string]int{}
		wg     sync.WaitGroup
	)
	for range *clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				key, wait := post(ctx, client, *url, body)
				mu.Lock()
				counts[key]++
				mu.Unlock()
				if wait > 0 {
					select {
					case <-ctx.Done():
					case <-time.After(wait):
					}
				}
			}
		}()
	}
	wg.Wait()
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Printf("%s=%d ", k, counts[k])
	}
	fmt.Println()
}

// post sends one request; it returns the outcome ("200", "503",
// "error") and how long to wait before the next one.
func post(ctx context.Context, c *http.Client, url string, body []byte) (string, time.Duration) {
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
	if err != nil {
		fmt.Fprintln(os.Stderr, "bodyload:", err)
		os.Exit(2)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "cut-at-end", 0
		}
		return "error", 100 * time.Millisecond
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	var wait time.Duration
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
		wait = time.Duration(s) * time.Second
	}
	return strconv.Itoa(resp.StatusCode), wait
}

// v2Body returns a V2 request for the house-prices example of about n
// bytes: as many rows as fit, padded with blanks.
func v2Body(n int) []byte {
	const head = `{"inputs":[{"name":"input-0","shape":[`
	row := []byte(`1500.0,3,20.0,2.5,"paris"`)
	rows := (n - 120) / (len(row) + 1)
	b := make([]byte, 0, n)
	b = append(b, head...)
	b = strconv.AppendInt(b, int64(rows), 10)
	b = append(b, `,5],"datatype":"BYTES","data":[`...)
	for i := range rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, row...)
	}
	b = append(b, "]}]"...)
	for len(b) < n-1 {
		b = append(b, ' ')
	}
	return append(b, '}')
}
