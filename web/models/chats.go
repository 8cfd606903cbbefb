package models

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/plugboard/plugboard"
	"github.com/plugboard/plugboard/store"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/page"
)

// chatsPageSize is how many chats a page of the history lists.
const chatsPageSize = 25

// chatsPage is the chat history, a page at a time: a member's own chats,
// everyone's for admins (who can also filter by user). ?model=, ?user=
// and ?q= narrow it; ?page= pages through it.
func (h *Handlers) chatsPage(c echo.Context) error {
	d := views.ChatsPageData{PageSize: chatsPageSize, Page: 1, Model: c.QueryParam("model"),
		User: c.QueryParam("user"), Query: strings.TrimSpace(c.QueryParam("q"))}
	f := store.ChatFilter{Model: d.Model, Query: d.Query, Limit: chatsPageSize}
	if d.User != "" {
		id, err := strconv.ParseInt(d.User, 10, 64)
		if err != nil || id <= 0 {
			return plugboard.Errorf(plugboard.EINVALID, "user=%q is not a user id.", d.User)
		}
		f.UserID = id
	}
	if p := c.QueryParam("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			return plugboard.Errorf(plugboard.EINVALID, "page=%q is not a page number (1, 2, …).", p)
		}
		d.Page = n
	}
	f.Offset = (d.Page - 1) * chatsPageSize
	l, err := h.models.Chats(page.Ctx(c), page.CurrentUser(c), f)
	if err != nil {
		return err
	}
	d.Chats, d.Total, d.All, d.Models, d.Users = l.Chats, l.Total, l.All, l.Models, l.Users
	if !d.All {
		d.User = ""
	}
	if d.Page > 1 {
		d.PrevURL = chatsPageURL(d, d.Page-1)
	}
	if d.Page < d.Pages() {
		d.NextURL = chatsPageURL(d, d.Page+1)
	}
	return page.Render(c, http.StatusOK, views.ChatsPage(h.Chrome(c, "Chat history · Models", views.NavModels), d))
}

// chatsPageURL is the history's address for another page of the same
// filter.
func chatsPageURL(d views.ChatsPageData, n int) string {
	return page.ListURL("/models/chats", map[string]string{"model": d.Model, "user": d.User, "q": d.Query}, n)
}

// chatView shows one recorded chat.
func (h *Handlers) chatView(c echo.Context) error {
	u := page.CurrentUser(c)
	chat, turns, err := h.models.FindChat(page.Ctx(c), u, c.Param("id"))
	if err != nil {
		return err
	}
	return page.Render(c, http.StatusOK, views.ChatView(h.Chrome(c, "Chat · Models", views.NavModels), chat, turns, chat.UserID == u.ID))
}

// chatDelete deletes a recorded chat.
func (h *Handlers) chatDelete(c echo.Context) error {
	if err := h.models.DeleteChat(page.Ctx(c), page.CurrentUser(c), c.Param("id")); err != nil {
		return err
	}
	return h.FlashRedirect(c, "Chat deleted.", "/models/chats")
}
