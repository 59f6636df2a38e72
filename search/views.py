from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST

from manuals.access import lead_of, manual_for
from manuals.models import Section
from search import backends
from search.folding import fold_map
from search.index import rebuild_requested
from search.indexing import request_rebuild
from search.results import build_query, find_in_manual, search_sections


def _may_rebuild(user) -> bool:
    return user.is_staff or lead_of(user) is not None


def _page_number(raw: str | None) -> int:
    return int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) < 6 else 1


@login_required
@require_GET
def results(request: HttpRequest) -> HttpResponse:
    params = request.GET
    query = build_query(
        params.get("q", ""), agent=params.get("agent", ""), manual=params.get("manual", ""),
        kind=params.get("kind", ""), since=params.get("since", ""),
    )  # fmt: skip
    found = search_sections(user=request.user, query=query, page=_page_number(params.get("page")))
    context = {
        "results": found,
        "q": query.text,
        "search_query": query.text,
        "filters": {k: params.get(k, "")[:100] for k in ("agent", "manual", "kind", "since")},
        "kinds": Section.Kind.choices,
        "may_rebuild": _may_rebuild(request.user),
        "rebuild_pending": found.unavailable and rebuild_requested(),
        # A team's facets run to a hundred names each: options built in one join.
        "agent_options": _options(
            [(name, name, n) for _id, name, n in found.agents], chosen=params.get("agent", "")
        ),
        "manual_options": _options(
            [(str(pk), title, n) for pk, title, n in found.manuals], chosen=params.get("manual", "")
        ),
        "pages": _page_window(found.page, found.num_pages),
        "page_base": _without_page(request),
    }
    return render(request, "search/results.html", context)


def _options(facets, *, chosen: str) -> str:
    """``<option>``s for (value, label, count) facets; agents are chosen by name."""
    return format_html_join(
        "", '<option value="{}"{}>{} ({})</option>',
        ((value, " selected" if value == chosen else "", label, count)
         for value, label, count in facets),
    )  # fmt: skip


def _without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _page_window(page: int, last: int) -> list[int | None]:
    shown = sorted({1, last, *range(max(1, page - 2), min(last, page + 2) + 1)})
    window: list[int | None] = []
    for number in shown:
        if window and number - (window[-1] or 0) > 1:
            window.append(None)
        window.append(number)
    return window


@login_required
@require_POST
def rebuild(request: HttpRequest) -> HttpResponse:
    if not _may_rebuild(request.user):
        raise Http404
    if request_rebuild():
        messages.success(request, _("已开始重建搜索索引，几分钟后即可搜索。"))
    else:
        messages.info(request, _("搜索索引正在重建中，请稍候。"))
    return redirect(reverse("search:results") + "?" + request.POST.get("next_query", "")[:500])


@login_required
@require_GET
def find(request: HttpRequest, manual_id: int) -> JsonResponse:
    manual = manual_for(request, manual_id)
    reading = request.GET.get("reading", "")
    found = find_in_manual(
        user=request.user, manual=manual, query=request.GET.get("q", ""),
        reading=int(reading) if reading.isdigit() and len(reading) < 12 else None,
    )  # fmt: skip
    sections = [
        {**s, "url": reverse("manuals:section", kwargs={"manual_id": manual.pk,
                                                        "section_id": s["id"]})}
        for s in found.sections
    ]  # fmt: skip
    return JsonResponse(
        {
            "query": found.query.text,
            "terms": found.query.terms,
            "total": found.total,
            "sections": sections,
            "start": found.start,
            "notices": found.query.notices,
            "index_unavailable": found.unavailable,
        }
    )


@require_GET
@cache_control(max_age=86400, public=True)
def fold_table(request: HttpRequest) -> JsonResponse:
    """The character folding table, so find-in-page in the browser folds like the index."""
    return JsonResponse({"map": {chr(k): chr(v) for k, v in fold_map().items()}})


@login_required
@require_GET
def status(request: HttpRequest) -> JsonResponse:
    exists = backends.current().exists()
    return JsonResponse({"index": exists, "rebuild_requested": rebuild_requested()})
