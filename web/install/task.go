package install

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/plugboard/plugboard/views"
	"github.com/plugboard/plugboard/web/page"
)

// taskListSize is how many install tasks the tasks page and the indicator read.
const taskListSize = 50

// tasks lists the install tasks, newest first. An installer who opens it
// has seen the failures: the header's "failed" badge clears for them.
func (h *Handlers) tasks(c echo.Context) error {
	ch := h.Chrome(c, "Install tasks", views.NavPlugins)
	list, err := h.daemon.Tasks(page.Ctx(c), 1, taskListSize)
	problem := ""
	if err != nil {
		problem = page.DaemonProblem(err)
	} else if h.canInstall(c) {
		if err := h.store.MarkTasksSeen(page.Ctx(c), page.CurrentUser(c).ID); err != nil {
			return err
		}
	}
	return page.Render(c, http.StatusOK, views.TasksPage(ch, list, problem))
}

// task answers one task's progress fragment. Once the task has finished the
// fragment no longer polls, and the plugins grid and the header indicator
// are told to refresh.
func (h *Handlers) task(c echo.Context) error {
	t, err := h.daemon.Task(page.Ctx(c), c.Param("id"))
	if err != nil {
		return err
	}
	if views.TaskDone(t) {
		c.Response().Header().Set("HX-Trigger", "plugins-changed, tasks-changed")
	}
	return page.Render(c, http.StatusOK, views.TaskProgress(fragmentChrome(c), t))
}

// taskIndicator answers the header's task indicator: empty for users who
// may not install, and when the daemon does not answer (the banner says
// why). Failures count until the viewer opens the tasks page, for a day
// at most.
func (h *Handlers) taskIndicator(c echo.Context) error {
	if !h.canInstall(c) {
		return c.NoContent(http.StatusOK)
	}
	list, err := h.daemon.Tasks(page.Ctx(c), 1, taskListSize)
	if err != nil {
		return c.NoContent(http.StatusOK)
	}
	seen, err := h.store.TasksSeenAt(page.Ctx(c), page.CurrentUser(c).ID)
	if err != nil {
		return err
	}
	return page.Render(c, http.StatusOK, views.TaskIndicator(views.IndicatorCounts(list, seen, h.now())))
}

// deleteTask clears a finished task.
func (h *Handlers) deleteTask(c echo.Context) error {
	if err := h.daemon.DeleteTask(page.Ctx(c), c.Param("id")); err != nil {
		return err
	}
	if page.IsHTMX(c) {
		c.Response().Header().Set("HX-Trigger", "tasks-changed")
		return c.NoContent(http.StatusOK)
	}
	return h.FlashRedirect(c, "Task cleared.", "/tasks")
}

// deleteAllTasks clears every finished task.
func (h *Handlers) deleteAllTasks(c echo.Context) error {
	if err := h.daemon.DeleteAllTasks(page.Ctx(c)); err != nil {
		return err
	}
	return h.FlashRedirect(c, "Finished tasks cleared.", "/tasks")
}
