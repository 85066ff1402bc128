package apifake

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// MaxPerPage is the largest page GitHub and GitLab hand out; a larger
// per_page is clamped to it.
const MaxPerPage = 100

// PageParams reads the page and per_page parameters of an offset-paginated
// list: page defaults to 1, per_page to perPage and is at most MaxPerPage.
func PageParams(q url.Values, perPage int) (page, size int) {
	size = perPage
	if v, err := strconv.Atoi(q.Get("per_page")); err == nil && v > 0 {
		size = min(v, MaxPerPage)
	}
	page = 1
	if v, err := strconv.Atoi(q.Get("page")); err == nil && v > 0 {
		page = v
	}
	return page, size
}

// Page returns the items on page (1-based) of all, size per page, and the
// number of the last page (at least 1, so an empty list has one page).
func Page[T any](all []T, page, size int) (items []T, last int) {
	last = max((len(all)+size-1)/size, 1)
	for i := (page - 1) * size; i < len(all) && i < page*size; i++ {
		items = append(items, all[i])
	}
	return items, last
}

// PageLink is one entry of a Link header: the URL of page of the list r
// asked for, with the parameters keep (nil for none of r's) and per_page
// and page, and its rel.
func PageLink(r *http.Request, keep url.Values, page, size int, rel string) string {
	v := url.Values{}
	for k, vs := range keep {
		v[k] = vs
	}
	v.Set("per_page", strconv.Itoa(size))
	v.Set("page", strconv.Itoa(page))
	u := url.URL{Scheme: "http", Host: r.Host, RawPath: r.URL.EscapedPath()}
	u.Path, _ = url.PathUnescape(r.URL.EscapedPath())
	u.RawQuery = v.Encode()
	return fmt.Sprintf("<%s>; rel=%q", u.String(), rel)
}
