package web

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
func (s *Server) tasks(c echo.Context) error {
	ch := s.chrome(c, "Install tasks", views.NavPlugins)
	list, err := s.daemon.Tasks(ctx(c), 1, taskListSize)
	problem := ""
	if err != nil {
		problem = page.DaemonProblem(err)
	} else if s.canInstall(c) {
		if err := s.store.MarkTasksSeen(ctx(c), CurrentUser(c).ID); err != nil {
			return err
		}
	}
	return s.render(c, http.StatusOK, views.TasksPage(ch, list, problem))
}

// task answers one task's progress fragment. Once the task has finished the
// fragment no longer polls, and the plugins grid and the header indicator
// are told to refresh.
func (s *Server) task(c echo.Context) error {
	t, err := s.daemon.Task(ctx(c), c.Param("id"))
	if err != nil {
		return err
	}
	if views.TaskDone(t) {
		c.Response().Header().Set("HX-Trigger", "plugins-changed, tasks-changed")
	}
	return s.render(c, http.StatusOK, views.TaskProgress(fragmentChrome(c), t))
}

// taskIndicator answers the header's task indicator: empty for users who
// may not install, and when the daemon does not answer (the banner says
// why). Failures count until the viewer opens the tasks page, for a day
// at most.
func (s *Server) taskIndicator(c echo.Context) error {
	if !s.canInstall(c) {
		return c.NoContent(http.StatusOK)
	}
	list, err := s.daemon.Tasks(ctx(c), 1, taskListSize)
	if err != nil {
		return c.NoContent(http.StatusOK)
	}
	seen, err := s.store.TasksSeenAt(ctx(c), CurrentUser(c).ID)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.TaskIndicator(views.IndicatorCounts(list, seen, s.cfg.Now())))
}

// deleteTask clears a finished task.
func (s *Server) deleteTask(c echo.Context) error {
	if err := s.daemon.DeleteTask(ctx(c), c.Param("id")); err != nil {
		return err
	}
	if isHTMX(c) {
		c.Response().Header().Set("HX-Trigger", "tasks-changed")
		return c.NoContent(http.StatusOK)
	}
	return s.flashRedirect(c, "Task cleared.", "/tasks")
}

// deleteAllTasks clears every finished task.
func (s *Server) deleteAllTasks(c echo.Context) error {
	if err := s.daemon.DeleteAllTasks(ctx(c)); err != nil {
		return err
	}
	return s.flashRedirect(c, "Finished tasks cleared.", "/tasks")
}
