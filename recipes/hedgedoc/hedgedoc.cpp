// hedgedoc: /status answers; /new makes a note that then serves.
#include <ccci/harness.hpp>

namespace {

class Hedgedoc final : public ccci::RecipeTest {
 public:
  ccci::RecipeInfo info() const override {
    return {.tags = {"notes", "markdown"}, .ready = {.path = "/status"}};
  }

  void probe(ccci::Context& ctx) override {
    ctx.check("status counts the notes", [&] {
      if (!ccci::expect_http(ctx, "/status").status(200).json_at("/notesCount").is_number())
        throw ccci::CheckFailure("notesCount is not a number");
    });
    ctx.check("/new redirects to a new note that then serves", [&] {
      const ccci::HttpClient browser(ctx.http());  // one session: the note belongs to its cookie
      auto created = ccci::expect_http(browser, {.url = ctx.url("/new")});
      const std::string note = created.redirects_to("/").response().header("location");
      ccci::expect_http(browser, {.url = note.starts_with("http") ? note : ctx.url(note)})
          .status(200)
          .body_contains("HedgeDoc");
    });
  }

  // The data a user keeps in HedgeDoc: a note, found again by its address.
  // No damage(): HedgeDoc 1.x deletes a note only over its owner's socket.io
  // session in a browser, not through an HTTP API, so its backup is proven by
  // the restore onto emptied volumes alone.
  void seed(ccci::Context& ctx) override {
    ctx.step("a new note is created", [&] {
      const ccci::HttpClient browser(ctx.http());
      const std::string note = ccci::expect_http(browser, {.url = ctx.url("/new")})
                                   .redirects_to("/")
                                   .response()
                                   .header("location");
      note_ = note.starts_with("http") ? note : ctx.url(note);
    });
  }

  void verify_seeded(ccci::Context& ctx) override {
    ctx.check("the note still serves at its address", [&] {
      ccci::expect_http(ccci::HttpClient(ctx.http()), {.url = note_}).status(200).body_contains("HedgeDoc");
    });
  }

 private:
  std::string note_;
};

}  // namespace

CCCI_PLUGIN(Hedgedoc, "hedgedoc")
