"""Static demo data: reference lists, Jiangsu geography, and the providers, instruments and services
named in the seed document (江苏省科技创新券政策解读及服务介绍, 2025-03-27)."""
from typing import NamedTuple

from .. import policy

FIELDS = ("生物医药", "新材料", "半导体", "新能源", "航空航天", "物联网", "电子信息", "高端装备制造", "其他")


class CategoryGroup(NamedTuple):
    name: str
    children: tuple[str, ...]
    voucher_excluded: bool = False


CATEGORY_TREE = (
    CategoryGroup("结构分析", ("物相与晶型分析", "分子结构分析", "立体构型分析", "晶体取向分析", "应力与织构分析",
                           "其他")),
    CategoryGroup("组成分析", ("元素定性分析", "元素定量分析", "组分分离鉴定", "同位素分析", "大分子分析", "其他")),
    CategoryGroup("表面分析", ("表面元素与组成分析", "表面/薄膜形貌分析", "表面/薄膜物相与晶型", "表面/薄膜性质分析",
                           "其他")),
    CategoryGroup("微区分析", ("微观形貌分析", "微区结构分析", "微区成分分析", "其他")),
    CategoryGroup("物化性质", ("粒度/颗粒分析", "硬度/厚度/密度", "熔点/沸点/折光率", "比表面/孔径/孔容",
                           "热学性能分析", "力学性能分析", "声光电磁性能", "还原/氧化/吸附性能", "流体性能分析",
                           "其他")),
    CategoryGroup("制备加工", ("材料制备", "测试制样", "非环境条件", "其他")),
    CategoryGroup("其他", ("其他",)),
    # The testing categories shown in the seed's mall screenshots, plus 计量校准 for the 徐州 calibrations.
    CategoryGroup("检验检测", ("技术检测测试", "技术指标测试", "软件测评", "初次测评", "集成电路和测试", "性能测试",
                           "结构、金属理化", "结构、含量等检测", "计量校准")),
    # Kinds the voucher never pays for (管理办法 不支持范围 1).
    CategoryGroup("其他服务", ("法定认证", "商业验货"), voucher_excluded=True),
)

# 13 prefecture-level cities: 6-digit administrative code, telephone area code, real districts, weight in the
# generated catalog (roughly each city's share of the province's testing capacity).
CITY_AREA_CODES = policy.CITY_DIVISION_CODES
CITY_PHONE_CODES = {
    "南京": "025", "无锡": "0510", "徐州": "0516", "常州": "0519", "苏州": "0512", "南通": "0513", "连云港": "0518",
    "淮安": "0517", "盐城": "0515", "扬州": "0514", "镇江": "0511", "泰州": "0523", "宿迁": "0527",
}
CITY_WEIGHTS = {
    "南京": 20, "无锡": 10, "徐州": 6, "常州": 7, "苏州": 18, "南通": 6, "连云港": 3, "淮安": 3, "盐城": 4,
    "扬州": 4, "镇江": 4, "泰州": 4, "宿迁": 2,
}
DISTRICTS = {
    "南京": ("玄武区", "秦淮区", "建邺区", "鼓楼区", "浦口区", "栖霞区", "雨花台区", "江宁区", "六合区", "溧水区",
             "高淳区"),
    "无锡": ("锡山区", "惠山区", "滨湖区", "梁溪区", "新吴区", "江阴市", "宜兴市"),
    "徐州": ("鼓楼区", "云龙区", "贾汪区", "泉山区", "铜山区", "丰县", "沛县", "睢宁县", "新沂市", "邳州市"),
    "常州": ("天宁区", "钟楼区", "新北区", "武进区", "金坛区", "溧阳市"),
    "苏州": ("虎丘区", "吴中区", "相城区", "姑苏区", "吴江区", "苏州工业园区", "常熟市", "张家港市", "昆山市",
             "太仓市"),
    "南通": ("崇川区", "通州区", "海门区", "如东县", "启东市", "如皋市", "海安市"),
    "连云港": ("连云区", "海州区", "赣榆区", "东海县", "灌云县", "灌南县"),
    "淮安": ("淮安区", "淮阴区", "清江浦区", "洪泽区", "涟水县", "盱眙县", "金湖县"),
    "盐城": ("亭湖区", "盐都区", "大丰区", "响水县", "滨海县", "阜宁县", "射阳县", "建湖县", "东台市"),
    "扬州": ("广陵区", "邗江区", "江都区", "宝应县", "仪征市", "高邮市"),
    "镇江": ("京口区", "润州区", "丹徒区", "丹阳市", "扬中市", "句容市"),
    "泰州": ("海陵区", "高港区", "姜堰区", "兴化市", "靖江市", "泰兴市"),
    "宿迁": ("宿城区", "宿豫区", "沭阳县", "泗阳县", "泗洪县"),
}


class ProviderProfile(NamedTuple):
    name: str
    unit_type: str
    city: str
    district: str
    address_detail: str  # "" when the seed shows none: a street is generated
    groups: tuple[str, ...]  # instrument groups (see kinds.py) for the generated part of its catalog
    website: str | None = None
    is_pilot: bool = False


# Cities follow the unit's name where the screenshot's address is a placeholder shared by unrelated
# listings (several 苏州/无锡 companies are shown at "江苏省南京市雨花台区").
REAL_PROVIDERS = (
    ProviderProfile("中国矿业大学", "university", "徐州", "云龙区", "大学路1号",
                 ("microscopy", "surface", "mechanics", "semiconductor"), "dygk.cumt.edu.cn", is_pilot=True),
    ProviderProfile("徐州市检验检测中心", "public_institution", "徐州", "云龙区", "南院路12号",
                 ("chemistry", "mechanics", "electronics")),
    ProviderProfile("徐州医科大学", "university", "徐州", "云龙区", "铜山路209号", ("bio", "structure")),
    ProviderProfile("江苏省软件产业检测中心", "public_institution", "南京", "雨花台区", "", ("software",)),
    ProviderProfile("南京江北新区生物医药公共服务平台", "public_platform", "南京", "浦口区", "", ("bio", "chemistry")),
    ProviderProfile("江苏科特生物技术检测有限公司", "third_party", "南京", "雨花台区", "", ("bio",)),
    ProviderProfile("苏州市软件评测中心有限公司", "third_party", "苏州", "姑苏区", "", ("software",)),
    ProviderProfile("南京市产品质量监督检验院", "public_institution", "南京", "江宁区", "宁南街道宁南大道",
                 ("chemistry", "mechanics", "electronics", "software")),
    ProviderProfile("中达检测江苏技术服务有限公司", "third_party", "南京", "雨花台区", "", ("chemistry",)),
    ProviderProfile("江苏东力检测检验中心有限公司", "third_party", "南京", "雨花台区", "",
                    ("mechanics", "electronics")),
    ProviderProfile("苏州苏大卫生与环境检测研究所有限公司", "third_party", "苏州", "姑苏区", "", ("bio", "chemistry")),
    ProviderProfile("无锡中达检测技术有限公司", "third_party", "无锡", "新吴区", "", ("software", "chemistry")),
    ProviderProfile("苏州中达检测技术有限公司", "third_party", "苏州", "吴中区", "", ("semiconductor", "electronics")),
    ProviderProfile("江苏科标医学技术集团有限公司", "third_party", "常州", "武进区", "", ("bio",)),
)


class RealInstrument(NamedTuple):
    key: str
    provider: str
    name: str
    manufacturer: str
    model: str
    value_wan: int
    field: str


# The seed names these instruments (所用仪器) but not their makers; manufacturers and models are plausible demo values.
REAL_INSTRUMENTS = (
    RealInstrument("cumt-sem", "中国矿业大学", "扫描电子显微镜", "FEI", "Quanta 250", 280, "新材料"),
    RealInstrument("cumt-tem", "中国矿业大学", "透射电子显微镜", "FEI", "Tecnai G2 F20", 1100, "新材料"),
    RealInstrument("cumt-xps", "中国矿业大学", "X射线光电子能谱仪", "赛默飞 Thermo Fisher", "ESCALAB 250Xi", 560,
                   "新材料"),
    RealInstrument("cumt-afm", "中国矿业大学", "原子力显微镜", "布鲁克 Bruker", "Dimension Icon", 260, "新材料"),
    RealInstrument("cumt-bet", "中国矿业大学", "比表面积及孔径分析仪", "麦克默瑞提克 Micromeritics", "ASAP 2460", 85,
                   "新材料"),
    RealInstrument("cumt-contact", "中国矿业大学", "接触角测量仪", "克吕士 KRÜSS", "DSA100", 42, "新材料"),
    RealInstrument("cumt-utm", "中国矿业大学", "微机控制电液伺服万能试验机", "济南试金", "WAW-600B", 65,
                   "高端装备制造"),
    RealInstrument("cumt-rock", "中国矿业大学", "岩石力学测试系统", "美特斯 MTS", "MTS 815", 520, "新能源"),
    RealInstrument("cumt-mla", "中国矿业大学", "无掩膜激光直写光刻系统", "海德堡 Heidelberg", "MLA 150", 460, "半导体"),
    RealInstrument("xzjc-spark", "徐州市检验检测中心", "火花直读光谱仪", "斯派克 SPECTRO", "SPECTROMAXx", 62,
                   "高端装备制造"),
    RealInstrument("xzjc-cs", "徐州市检验检测中心", "高频红外碳硫分析仪", "力可 LECO", "CS844", 48, "新材料"),
    RealInstrument("xzjc-qpcr", "徐州市检验检测中心", "实时荧光定量PCR仪", "应用生物系统 Applied Biosystems",
                   "QuantStudio 5", 38, "生物医药"),
    RealInstrument("xzmu-cd", "徐州医科大学", "多功能圆二色谱仪", "Applied Photophysics", "Chirascan", 120, "生物医药"),
    RealInstrument("xzmu-esem", "徐州医科大学", "环境扫描电镜", "赛默飞 Thermo Fisher", "Quanta 250 FEG", 320,
                   "生物医药"),
    RealInstrument("xzmu-cfe", "徐州医科大学", "冷场发射扫描电镜", "日立 Hitachi", "SU8010", 380, "生物医药"),
    RealInstrument("xzmu-live", "徐州医科大学", "实时活细胞成像分析系统", "赛多利斯 Sartorius", "IncuCyte S3", 110,
                   "生物医药"),
    RealInstrument("xzmu-dpcr", "徐州医科大学", "数字PCR仪（微滴发生器和微滴分析仪）", "伯乐 Bio-Rad", "QX200", 60,
                   "生物医药"),
)


class RealService(NamedTuple):
    provider: str
    name: str
    price_yuan: int | None  # None: 面议
    category: tuple[str, str]
    fields: tuple[str, ...]
    purpose: str  # opening clause of the description
    instrument: str | None = None  # RealInstrument.key
    unit: str = "元/样品"
    nature: str = "testing"
    cycle: str = "5-7个工作日"
    standard: str = ""


_MICRO, _SURFACE, _PHYS, _COMP, _TESTING = "微区分析", "表面分析", "物化性质", "组成分析", "检验检测"
_SOFTWARE_STANDARD = "GB/T 25000.51-2016"
_BIOCOMPATIBILITY_STANDARD = "GB/T 16886.1-2022"

# Names, prices, units and categories as shown in the seed (truncated titles completed); 面议 = None.
REAL_SERVICES = (
    # 本地服务 (徐州): 中国矿业大学
    RealService("中国矿业大学", "高真空模式形貌分析", 160, (_MICRO, "微观形貌分析"), ("新材料",),
                "在高真空模式下观察导电及喷金样品的表面微观形貌", "cumt-sem", standard="GB/T 16594-2008"),
    RealService("中国矿业大学", "亚分辨率线及10μm微加工", 2000, ("制备加工", "材料制备"), ("半导体", "新材料"),
                "利用无掩膜激光直写完成亚分辨率线条及10μm级图形微加工", "cumt-mla", unit="元/小时",
                nature="instrument_sharing", cycle="预约后3个工作日内"),
    RealService("中国矿业大学", "静态摩擦角、表面张力等测量", 150, (_SURFACE, "表面/薄膜性质分析"), ("新材料",),
                "测量静态摩擦角、液体表面张力及界面张力等参数", "cumt-contact"),
    RealService("中国矿业大学", "微-介孔材料的介孔-部分微孔孔径分布测试", 500, (_PHYS, "比表面/孔径/孔容"),
                ("新材料", "新能源"), "测定微-介孔材料比表面积及介孔、部分微孔孔径分布", "cumt-bet",
                standard="GB/T 19587-2017"),
    RealService("中国矿业大学", "材料表面结构原子力显微镜表征", 400, (_SURFACE, "表面/薄膜形貌分析"), ("新材料",),
                "利用原子力显微镜表征材料表面纳米级三维结构与粗糙度", "cumt-afm", standard="GB/T 31227-2014"),
    RealService("中国矿业大学", "TEM图像及能谱分析", 1100, (_MICRO, "微区成分分析"), ("新材料", "半导体"),
                "获取透射电镜高分辨图像并进行能谱元素分析", "cumt-tem", cycle="7-10个自然日",
                standard="GB/T 18907-2013"),
    RealService("中国矿业大学", "600KN微机控制电液伺服万能试验机力学测试", 150, (_PHYS, "力学性能分析"),
                ("高端装备制造", "新材料"), "开展金属、岩石等材料拉伸、压缩及弯曲力学性能测试", "cumt-utm",
                standard="GB/T 228.1-2021"),
    RealService("中国矿业大学", "煤岩体的声学、力学参数测量", 2400, (_PHYS, "力学性能分析"), ("新能源", "高端装备制造"),
                "测量煤岩体纵横波速、弹性模量及三轴抗压强度等参数", "cumt-rock", cycle="10-15个工作日",
                standard="GB/T 50266-2013"),
    RealService("中国矿业大学", "材料粘附、润湿性等测试特性分析", 800, (_SURFACE, "表面/薄膜性质分析"), ("新材料",),
                "测试材料表面粘附功、润湿性及表面自由能等特性", "cumt-contact", standard="GB/T 30693-2014"),
    RealService("中国矿业大学", "常规XPS分析; XPS深度剖析", 400, (_SURFACE, "表面元素与组成分析"), ("新材料", "新能源"),
                "测定表面元素组成与化学态，并可结合离子刻蚀进行深度剖析", "cumt-xps", standard="GB/T 19500-2004"),
    # 本地服务 (徐州): 徐州市检验检测中心
    RealService("徐州市检验检测中心", "金属材料成分分析", 500, (_COMP, "元素定量分析"), ("高端装备制造", "新材料"),
                "测定钢铁、铝合金等金属材料主要化学成分", "xzjc-spark", standard="GB/T 4336-2016"),
    RealService("徐州市检验检测中心", "可燃气体报警器计量检定", 500, (_TESTING, "计量校准"), ("其他",),
                "依据检定规程对可燃气体检测报警器示值误差、响应时间进行检定", standard="JJG 693-2011"),
    RealService("徐州市检验检测中心", "气体分析仪及报警器检定/校准", 500, (_TESTING, "计量校准"), ("其他",),
                "对各类气体分析仪及报警器进行检定或校准并出具证书"),
    RealService("徐州市检验检测中心", "金属材料碳硫含量检测", 200, (_COMP, "元素定量分析"), ("新材料",),
                "采用高频燃烧红外吸收法测定金属材料碳、硫含量", "xzjc-cs", standard="GB/T 20123-2006"),
    RealService("徐州市检验检测中心", "数字多用表校准", 1500, (_TESTING, "计量校准"), ("电子信息",),
                "依据校准规范对数字多用表各功能和量程进行校准", standard="JJF 1587-2016"),
    RealService("徐州市检验检测中心", "室内装饰装修材料人造板中甲醛释放量检测", 5000, (_TESTING, "技术检测测试"),
                ("新材料",), "检测人造板及其制品的甲醛释放量是否符合限量要求", standard="GB 18580-2017"),
    RealService("徐州市检验检测中心", "温度传感器现场校准", 400, (_TESTING, "计量校准"), ("高端装备制造",),
                "对温度传感器及测温系统进行现场校准并出具校准证书"),
    # Shown as ¥0元/样品 in the seed.
    RealService("徐州市检验检测中心", "室内环境检测（甲醛、苯、TVOC等）", 0, (_TESTING, "技术检测测试"), ("其他",),
                "检测室内空气中甲醛、苯、TVOC等污染物浓度", standard="GB/T 18883-2022"),
    RealService("徐州市检验检测中心", "矿用通风机无线多参数测试仪", None, (_TESTING, "性能测试"),
                ("高端装备制造", "新能源"), "利用无线多参数测试仪现场测试矿用通风机风量、风压和效率"),
    RealService("徐州市检验检测中心", "荧光定量PCR位服务", None, (_COMP, "大分子分析"), ("生物医药",),
                "提供实时荧光定量PCR上机位服务，用于核酸检测与基因表达分析", "xzjc-qpcr",
                nature="instrument_sharing"),
    # 服务管理 and 承诺制 order screenshots (the provider is not named there; 徐州医科大学 fits the listed categories).
    RealService("徐州医科大学", "多功能圆二色谱仪", None, ("其他", "其他"), ("生物医药",),
                "测定蛋白质、多肽等生物大分子的圆二色光谱与二级结构", "xzmu-cd", nature="instrument_sharing"),
    RealService("徐州医科大学", "环境扫描电镜", None, (_MICRO, "微区成分分析"), ("生物医药", "新材料"),
                "在低真空及环境模式下观察生物及含水样品形貌并进行成分分析", "xzmu-esem", nature="instrument_sharing"),
    RealService("徐州医科大学", "冷场发射扫描电镜", None, (_MICRO, "微区成分分析"), ("生物医药",),
                "高分辨观察组织、细胞等样品超微形貌并进行微区成分分析", "xzmu-cfe", nature="instrument_sharing"),
    RealService("徐州医科大学", "对细胞进行数天、数周甚至数月的长期分析", None, (_MICRO, "微观形貌分析"), ("生物医药",),
                "利用实时活细胞成像系统对细胞增殖、迁移等进行长时程分析", "xzmu-live", cycle="按实验周期"),
    RealService("徐州医科大学", "核酸定量检测", 100, (_COMP, "大分子分析"), ("生物医药",),
                "基于微滴数字PCR对核酸进行绝对定量检测", "xzmu-dpcr"),
    # 科技商城 search results
    RealService("江苏省软件产业检测中心", "软件产品评估检测", 2000, (_TESTING, "技术检测测试"), ("电子信息",),
                "对软件产品功能性、可靠性、易用性等质量特性进行评估检测", standard=_SOFTWARE_STANDARD),
    RealService("南京江北新区生物医药公共服务平台", "二代基因文库测序", 7500, (_TESTING, "技术检测测试"), ("生物医药",),
                "提供DNA/RNA文库构建及高通量二代测序服务", cycle="7-10个自然日"),
    RealService("江苏科特生物技术检测有限公司", "生物相容性试验", 15000, (_TESTING, "结构、金属理化"), ("生物医药",),
                "开展医疗器械细胞毒性、致敏、刺激等生物相容性评价", cycle="30-45个自然日",
                standard=_BIOCOMPATIBILITY_STANDARD),
    RealService("苏州市软件评测中心有限公司", "SZSTC 苏州评测", 2000, (_TESTING, "初次测评"), ("电子信息",),
                "为软件企业提供软件产品首次登记评测及质量评估服务", standard=_SOFTWARE_STANDARD),
    RealService("苏州市软件评测中心有限公司", "软件产品检测服务", 2000, (_TESTING, "初次测评"), ("电子信息",),
                "对软件产品功能、性能、安全性进行第三方检测并出具报告", standard=_SOFTWARE_STANDARD),
    RealService("南京市产品质量监督检验院", "软件产品的功能性测试", 5000, (_TESTING, "软件测评"), ("电子信息",),
                "依据需求规格说明对软件产品功能的完整性与正确性进行测试", standard=_SOFTWARE_STANDARD),
    RealService("中达检测江苏技术服务有限公司", "食品中农残项目检测", 3000, (_TESTING, "结构、金属理化"), ("其他",),
                "检测果蔬、茶叶等食品中有机磷、拟除虫菊酯等农药残留", standard="GB 23200.113-2018"),
    RealService("江苏东力检测检验中心有限公司", "耐用至弯曲疲劳试验", 1000, (_TESTING, "结构、金属理化"),
                ("高端装备制造",), "对材料及零部件开展反复弯曲疲劳耐久试验", cycle="10-15个工作日"),
    RealService("南京江北新区生物医药公共服务平台", "结构验证虚拟采集", 3500, (_TESTING, "结构、金属理化"),
                ("生物医药",), "开展药物分子结构确证所需数据采集与解析"),
    RealService("苏州苏大卫生与环境检测研究所有限公司", "生物相容性检测服务", 15000, (_TESTING, "结构、金属理化"),
                ("生物医药",), "开展医疗器械及材料的生物相容性检测", cycle="30-45个自然日",
                standard=_BIOCOMPATIBILITY_STANDARD),
    RealService("无锡中达检测技术有限公司", "软件产品登记类测试", 2000, (_TESTING, "软件测评"), ("电子信息",),
                "为软件产品登记、评估提供符合性测试并出具测试报告", standard=_SOFTWARE_STANDARD),
    RealService("苏州中达检测技术有限公司", "集成电路测试方案及程序开发", 20000, (_TESTING, "集成电路和测试"),
                ("半导体",), "为芯片提供量产测试方案设计及ATE测试程序开发", nature="rnd", cycle="20-30个工作日"),
    RealService("江苏东力检测检验中心有限公司", "机械、电器设备性能检测", 5000, (_TESTING, "性能测试"),
                ("高端装备制造",), "对机械及电器设备开展安全与性能检测"),
    RealService("江苏科标医学技术集团有限公司", "生物相容性试验", 15000, (_TESTING, "结构、含量等检测"), ("生物医药",),
                "开展医疗器械生物学评价所需的细胞毒性、致敏及刺激试验", cycle="55天",
                standard=_BIOCOMPATIBILITY_STANDARD),
)
