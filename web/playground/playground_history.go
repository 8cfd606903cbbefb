package playground

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/page"
)

// runsPageSize is how many runs a page of the history lists.
const runsPageSize = 25

// runs lists runs, newest first, a page at a time: a member's own, or
// everyone's for admins, who can also filter by user. ?tool=, ?status=,
// ?user= and ?q= (searched in tool, plugin, user, parameters and error)
// narrow the list; ?page= pages through it.
func (h *Handlers) runs(c echo.Context) error {
	u := page.CurrentUser(c)
	d := views.RunsPageData{All: u.Role.AtLeast(store.RoleAdmin), PageSize: runsPageSize, Page: 1,
		Tool: c.QueryParam("tool"), Status: c.QueryParam("status"), Query: strings.TrimSpace(c.QueryParam("q"))}
	f := store.RunFilter{Tool: d.Tool, Status: d.Status, Query: d.Query, Limit: runsPageSize}
	var facetsOf int64
	if d.All {
		if d.User = c.QueryParam("user"); d.User != "" {
			id, err := strconv.ParseInt(d.User, 10, 64)
			if err != nil || id <= 0 {
				return plugboard.Errorf(plugboard.EINVALID, "user=%q is not a user id.", d.User)
			}
			f.UserID = id
		}
	} else {
		f.UserID, facetsOf = u.ID, u.ID
	}
	if d.Status != "" && !slices.Contains(views.RunStatuses, d.Status) {
		return plugboard.Errorf(plugboard.EINVALID, "status=%q is not a run status (%s).", d.Status, strings.Join(views.RunStatuses, ", "))
	}
	if p := c.QueryParam("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			return plugboard.Errorf(plugboard.EINVALID, "page=%q is not a page number (1, 2, …).", p)
		}
		d.Page = n
	}
	f.Offset = (d.Page - 1) * runsPageSize
	var err error
	if d.Runs, d.Total, err = h.store.FindRuns(page.Ctx(c), f); err != nil {
		return err
	}
	if d.Tools, d.Users, err = h.store.RunFacets(page.Ctx(c), facetsOf); err != nil {
		return err
	}
	if d.Page > 1 {
		d.PrevURL = runsPageURL(d, d.Page-1)
	}
	if d.Page < d.Pages() {
		d.NextURL = runsPageURL(d, d.Page+1)
	}
	return page.Render(c, http.StatusOK, views.RunsPage(h.Chrome(c, "Run history", views.NavPlayground), d))
}

// runsPageURL is the history's address for another page of the same filter.
func runsPageURL(d views.RunsPageData, n int) string {
	return page.ListURL("/playground/runs", map[string]string{"tool": d.Tool, "status": d.Status, "user": d.User, "q": d.Query}, n)
}
