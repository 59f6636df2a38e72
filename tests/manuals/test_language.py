from django.conf import settings
from django.urls import reverse


def test_chinese_is_the_default_even_for_an_english_browser(client, alice):
    client.force_login(alice)
    response = client.get(reverse("manuals:home"), headers={"Accept-Language": "en-US,en"})
    assert response.headers["Content-Language"] == "zh-hans"
    assert "我的工作手册" in response.content.decode()


def test_choosing_english_is_remembered(client, alice):
    client.force_login(alice)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    response = client.get(reverse("manuals:home"))
    assert response.headers["Content-Language"] == "en"
    assert '<html lang="en">' in response.content.decode()
