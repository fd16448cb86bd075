"""The SVG bar charts: well-formed, accessible, scalable, escaped, and honest about empty data."""
import xml.etree.ElementTree as ET

import pytest

from marketplace.stats.charts import BLUE, ORANGE, Chart, Series, bar_chart, fit, nice_ticks, text_width

NS = "{http://www.w3.org/2000/svg}"


def parse(chart: Chart) -> ET.Element:
    return ET.fromstring(str(bar_chart(chart)))


def bars(svg: ET.Element) -> list[ET.Element]:
    return [rect for rect in svg.iter(f"{NS}rect") if rect.get("class") == "bar"]


def texts(svg: ET.Element) -> list[str]:
    return [text.text for text in svg.iter(f"{NS}text")]


@pytest.mark.parametrize("horizontal", [True, False], ids=["across", "up"])
def test_every_value_is_a_bar_with_its_exact_value_and_a_tooltip(horizontal):
    svg = parse(Chart("按城市", ["南京", "徐州"], [Series("发放", [3, 5], BLUE), Series("使用", [0, 2], ORANGE)],
                      unit="张", horizontal=horizontal))
    found = [(bar.get("data-label"), bar.get("data-series"), bar.get("data-value"), bar.find(f"{NS}title").text)
             for bar in bars(svg)]
    assert found == [("南京", "发放", "3", "南京 · 发放：3张"), ("南京", "使用", "0", "南京 · 使用：0张"),
                     ("徐州", "发放", "5", "徐州 · 发放：5张"), ("徐州", "使用", "2", "徐州 · 使用：2张")]
    assert {"南京", "徐州", "单位：张"} <= set(texts(svg))


@pytest.mark.parametrize("horizontal, length", [(True, "width"), (False, "height")], ids=["across", "up"])
def test_bar_lengths_are_proportional_to_values(horizontal, length):
    svg = parse(Chart("比例", ["甲", "乙", "丙"], [Series("数量", [10, 5, 0])], horizontal=horizontal))
    sizes = [float(bar.get(length)) for bar in bars(svg)]
    assert sizes[0] == pytest.approx(2 * sizes[1]) and sizes[2] == 0 and sizes[0] > 0


def test_the_chart_is_an_accessible_image_that_scales_with_the_page():
    svg = parse(Chart("兑付申请按状态", ["审核中"], [Series("笔数", [1])], horizontal=True))
    assert svg.get("role") == "img" and svg.get("aria-label") == "兑付申请按状态"
    assert svg.get("width") == "100%" and svg.get("height") is None
    assert svg.get("viewBox").startswith("0 0 960 ")
    assert svg.find(f"{NS}title").text == "兑付申请按状态"


def test_a_legend_names_the_series_only_when_there_are_several():
    one = parse(Chart("单", ["南京"], [Series("笔数", [1])]))
    two = parse(Chart("双", ["南京"], [Series("省创新券", [1], BLUE), Series("地方配套", [1], ORANGE)]))
    assert one.find(f".//{NS}g[@class='legend']") is None
    legend = two.find(f".//{NS}g[@class='legend']")
    assert [text.text for text in legend.iter(f"{NS}text")] == ["省创新券", "地方配套"]
    assert [rect.get("fill") for rect in legend.iter(f"{NS}rect")] == [BLUE, ORANGE]


def test_labels_and_names_are_escaped():
    hostile = '<script>alert("x")</script>&'
    markup = str(bar_chart(Chart(hostile, [hostile], [Series(hostile, [1]), Series("二", [2])], horizontal=True)))
    assert "<script>" not in markup
    svg = ET.fromstring(markup)
    assert svg.get("aria-label") == hostile and svg.find(f"{NS}title").text == hostile
    [first, _] = bars(svg)
    assert first.get("data-label") == hostile and first.get("data-series") == hostile
    assert hostile in first.find(f"{NS}title").text


@pytest.mark.parametrize("labels, values", [([], []), (["南京", "徐州"], [0, 0])], ids=["no rows", "all zero"])
def test_no_data_says_so_instead_of_drawing_bars(labels, values):
    svg = parse(Chart("地方配套", labels, [Series("地方配套", values)]))
    assert bars(svg) == [] and "暂无数据" in texts(svg)
    assert svg.get("role") == "img" and svg.get("aria-label") == "地方配套：暂无数据"


def test_values_are_printed_with_the_charts_format():
    svg = parse(Chart("金额", ["南京"], [Series("省创新券", [14_000_000])], lambda fen: f"{fen // 1_000_000}", "万元",
                      horizontal=True))
    assert "14" in texts(svg) and svg.find(f".//{NS}rect/{NS}title").text == "南京：14万元"


def test_a_long_label_is_shortened_on_the_axis_and_kept_whole_in_the_tooltip():
    name = "江苏省产业技术研究院先进材料与分析测试公共服务平台有限公司"
    svg = parse(Chart("排行", [name], [Series("订单数", [3])], horizontal=True))
    shown = [text for text in texts(svg) if text.startswith("江苏省")]
    assert len(shown) == 1 and shown[0].endswith("…") and len(shown[0]) < len(name)
    assert bars(svg)[0].get("data-label") == name


@pytest.mark.parametrize("top, ticks", [(1, [0, 1]), (3, [0, 1, 2, 3]), (7, [0, 2, 4, 6, 8]), (10, [0, 2, 4, 6, 8, 10]),
                                        (14_000_000, [0, 5_000_000, 10_000_000, 15_000_000]),
                                        (950_000, [0, 200_000, 400_000, 600_000, 800_000, 1_000_000])])
def test_axis_ticks_are_round_numbers_reaching_the_top_value(top, ticks):
    assert nice_ticks(top) == ticks


def test_text_fits_by_width_with_chinese_wider_than_digits():
    assert text_width("南京", 12) == 24 and text_width("12", 10) == 12
    assert fit("南京", 24, 12) == "南京" and fit("南京市玄武区", 36, 12) == "南京…"


@pytest.mark.parametrize("horizontal", [True, False], ids=["across", "up"])
def test_a_zero_bar_prints_no_value_so_empty_categories_stay_quiet(horizontal):
    svg = parse(Chart("按城市", ["南京", "无锡"], [Series("发放", [7, 0])], horizontal=horizontal))
    assert texts(svg).count("0") == 1  # the axis origin only
    assert texts(svg).count("7") == 1
