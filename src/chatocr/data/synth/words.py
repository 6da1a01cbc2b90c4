"""Built-in word lists for realistic fake content (names, places, companies, goods).

Everything is invented from common parts; no list is downloaded.  Any resemblance of a
generated company or person to a real one is chance.
"""

from __future__ import annotations

import random

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石"
    "廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
DOUBLE_SURNAMES = ["欧阳", "司马", "上官", "诸葛", "东方", "皇甫"]
GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红鹏辉建国文斌宇浩凯晨雪梅琳欣怡子涵梓轩一诺思远俊豪嘉宁雨萱"
    "佳琪语桐若曦浩然博文晓东志强海燕春梅天佑铭泽家豪诗雨心怡欣妍奕辰宇航天翊瑞霖锦程靖瑶婉清书瑶嘉怡子墨沐阳"
)

# province -> city -> districts of that city (addresses stay geographically consistent)
PROVINCES: dict[str, dict[str, list[str]]] = {
    "浙江省": {
        "杭州市": ["西湖区", "滨江区", "上城区", "拱墅区"],
        "宁波市": ["鄞州区", "海曙区"],
        "温州市": ["鹿城区", "瓯海区"],
        "绍兴市": ["越城区", "柯桥区"],
        "嘉兴市": ["南湖区", "秀洲区"],
    },
    "江苏省": {
        "南京市": ["玄武区", "鼓楼区", "秦淮区"],
        "苏州市": ["姑苏区", "吴中区"],
        "无锡市": ["梁溪区", "滨湖区"],
        "常州市": ["天宁区", "钟楼区"],
        "徐州市": ["云龙区", "泉山区"],
    },
    "广东省": {
        "广州市": ["天河区", "越秀区", "海珠区"],
        "深圳市": ["南山区", "福田区", "宝安区"],
        "佛山市": ["禅城区", "南海区"],
        "东莞市": ["南城街道", "东城街道"],
        "珠海市": ["香洲区", "金湾区"],
    },
    "山东省": {
        "济南市": ["历下区", "市中区"],
        "青岛市": ["市南区", "崂山区"],
        "烟台市": ["芝罘区", "莱山区"],
        "潍坊市": ["奎文区", "潍城区"],
    },
    "四川省": {"成都市": ["武侯区", "锦江区", "高新区"], "绵阳市": ["涪城区", "游仙区"], "德阳市": ["旌阳区"]},
    "湖北省": {
        "武汉市": ["洪山区", "江汉区", "武昌区"],
        "宜昌市": ["西陵区", "伍家岗区"],
        "襄阳市": ["襄城区", "樊城区"],
    },
    "河南省": {
        "郑州市": ["金水区", "二七区", "中原区"],
        "洛阳市": ["涧西区", "西工区"],
        "开封市": ["龙亭区", "鼓楼区"],
    },
    "福建省": {"福州市": ["鼓楼区", "仓山区"], "厦门市": ["思明区", "湖里区"], "泉州市": ["丰泽区", "鲤城区"]},
    "湖南省": {
        "长沙市": ["岳麓区", "芙蓉区", "天心区"],
        "株洲市": ["荷塘区", "芦淞区"],
        "湘潭市": ["雨湖区", "岳塘区"],
    },
    "安徽省": {
        "合肥市": ["蜀山区", "包河区", "瑶海区"],
        "芜湖市": ["镜湖区", "鸠江区"],
        "蚌埠市": ["龙子湖区", "蚌山区"],
    },
}
MUNICIPALITIES = {
    "北京市": ["海淀区", "朝阳区", "东城区", "西城区", "丰台区"],
    "上海市": ["浦东新区", "徐汇区", "静安区", "黄浦区", "闵行区"],
    "天津市": ["南开区", "和平区", "河西区", "滨海新区"],
    "重庆市": ["渝中区", "江北区", "沙坪坝区", "九龙坡区"],
}
ROADS = [
    "文三路",
    "人民路",
    "解放路",
    "中山路",
    "建设路",
    "学院路",
    "科技路",
    "滨江大道",
    "新华路",
    "和平路",
    "长江路",
    "黄河路",
    "东风路",
    "光明路",
    "青年路",
    "花园路",
    "湖滨路",
    "复兴路",
    "迎宾大道",
    "创业路",
    "工业园路",
    "金融街",
    "振华路",
    "世纪大道",
]
BUILDINGS = ["大厦", "广场", "科技园", "中心", "商务楼", "产业园"]

COMPANY_CORES = [
    "恒通",
    "华信",
    "博远",
    "新宇",
    "瑞丰",
    "中诚",
    "天成",
    "鼎盛",
    "汇智",
    "金桥",
    "宏图",
    "启明",
    "海纳",
    "众联",
    "嘉禾",
    "远航",
    "德润",
    "盛世",
    "九州",
    "万象",
    "星辰",
    "锦华",
    "立信",
    "安泰",
    "云帆",
    "睿思",
    "宝利",
    "永信",
    "国泰",
    "长城",
    "翔宇",
    "同创",
]
INDUSTRIES = [
    "科技",
    "信息技术",
    "贸易",
    "商贸",
    "电子",
    "网络科技",
    "建筑工程",
    "餐饮管理",
    "物流",
    "文化传媒",
    "生物科技",
    "机械设备",
    "环保科技",
    "教育咨询",
    "医疗器械",
    "新能源",
    "食品",
    "服装",
    "软件",
    "供应链管理",
]
COMPANY_SUFFIXES = ["有限公司", "有限公司", "有限责任公司", "股份有限公司"]

UNIVERSITIES = [
    "浙江工业大学",
    "南京理工大学",
    "华南理工大学",
    "山东大学",
    "四川大学",
    "武汉理工大学",
    "郑州大学",
    "福州大学",
    "湖南大学",
    "合肥工业大学",
    "北京交通大学",
    "同济大学",
    "天津大学",
    "重庆大学",
    "杭州电子科技大学",
    "苏州大学",
    "深圳大学",
    "中南大学",
]
COLLEGES = ["计算机学院", "数学学院", "信息工程学院", "机械工程学院", "经济管理学院", "电气工程学院", "理学院"]

# Competitions: (name, national organiser, provincial organiser pattern).  Names avoid 省 so
# that the certificate's 级别 comes only from the stage wording and the organiser.
COMPETITIONS = [
    ("全国大学生数学建模竞赛", "全国大学生数学建模竞赛组委会"),
    ("全国大学生电子设计竞赛", "全国大学生电子设计竞赛组委会"),
    ("“挑战杯”全国大学生课外学术科技作品竞赛", "共青团中央 中国科协"),
    ("中国大学生计算机设计大赛", "中国大学生计算机设计大赛组织委员会"),
    ("全国大学生英语竞赛", "高等学校大学外语教学研究会"),
    ("蓝桥杯全国软件和信息技术专业人才大赛", "工业和信息化部人才交流中心"),
    ("全国大学生结构设计竞赛", "全国大学生结构设计竞赛委员会"),
    ("中国国际大学生创新大赛", "中国国际大学生创新大赛组委会"),
    ("全国大学生机械创新设计大赛", "全国大学生机械创新设计大赛组委会"),
    ("全国大学生广告艺术大赛", "全国大学生广告艺术大赛组委会"),
    ("全国大学生化学实验邀请赛", "全国大学生化学实验邀请赛组委会"),
    ("全国大学生市场调查与分析大赛", "中国商业统计学会"),
]

INVOICE_ITEMS = [
    ("*信息技术服务*软件开发服务", "", "项", 6),
    ("*信息技术服务*技术服务费", "", "次", 6),
    ("*现代服务*咨询服务费", "", "项", 6),
    ("*办公用品*打印纸", "A4 70g", "箱", 13),
    ("*计算机配套产品*笔记本电脑", "ThinkPad E14", "台", 13),
    ("*计算机配套产品*显示器", "27英寸", "台", 13),
    ("*餐饮服务*餐费", "", "次", 6),
    ("*住宿服务*住宿费", "", "间夜", 6),
    ("*运输服务*货物运输服务", "", "次", 9),
    ("*电子元件*集成电路", "STM32F103", "个", 13),
    ("*纺织产品*工作服", "L", "套", 13),
    ("*建筑服务*工程服务", "", "项", 9),
    ("*日用杂品*清洁用品", "", "批", 13),
    ("*图书*专业书籍", "", "本", 9),
    ("*经纪代理服务*代理服务费", "", "项", 6),
]

RECEIPT_ITEMS_ZH = [
    ("农夫山泉550ml", 2.0),
    ("可口可乐330ml", 3.5),
    ("康师傅红烧牛肉面", 4.5),
    ("伊利纯牛奶250ml", 3.0),
    ("奥利奥饼干", 9.9),
    ("金龙鱼大米5kg", 49.9),
    ("鲜鸡蛋10枚", 12.8),
    ("红富士苹果", 8.6),
    ("香蕉", 6.5),
    ("洗洁精1.5kg", 15.9),
    ("维达抽纸", 18.9),
    ("乐事薯片", 7.5),
    ("统一冰红茶", 3.0),
    ("蒙牛酸奶", 5.8),
    ("海天酱油", 11.9),
    ("猪里脊肉", 26.4),
    ("西红柿", 5.2),
    ("拿铁咖啡", 22.0),
    ("牛肉汉堡", 25.0),
    ("宫保鸡丁", 32.0),
    ("米饭", 2.0),
    ("青岛啤酒", 6.0),
    ("中性笔", 2.5),
    ("笔记本", 6.8),
]
RECEIPT_ITEMS_EN = [
    ("MINERAL WATER 500ML", 1.20),
    ("COCA COLA 330ML", 2.50),
    ("INSTANT NOODLES", 3.90),
    ("FRESH MILK 1L", 6.95),
    ("WHITE BREAD", 3.60),
    ("EGGS GRADE A 10S", 5.80),
    ("APPLE FUJI", 4.20),
    ("BANANA", 3.10),
    ("DISH SOAP 900ML", 7.90),
    ("TISSUE BOX", 4.50),
    ("POTATO CHIPS", 3.30),
    ("ICED LEMON TEA", 2.80),
    ("YOGHURT CUP", 2.40),
    ("SOY SAUCE", 5.60),
    ("CHICKEN BREAST", 12.90),
    ("TOMATO", 2.70),
    ("LATTE", 9.50),
    ("BEEF BURGER", 11.90),
    ("FRIED RICE", 8.50),
    ("BALLPOINT PEN", 1.50),
    ("A4 NOTEBOOK", 4.90),
    ("BATTERY AA 4S", 9.90),
    ("TOOTHPASTE", 6.30),
    ("SHAMPOO 400ML", 15.90),
]
EN_SHOP_PREFIX = ["SUNRISE", "GOLDEN", "EVERGREEN", "BLUE OCEAN", "HAPPY", "PREMIER", "CITY", "FRESH", "STAR", "UNITED"]
EN_SHOP_CORE = [
    "MART",
    "SUPERMARKET",
    "MINI MARKET",
    "TRADING",
    "BOOKSTORE",
    "HARDWARE",
    "CAFE",
    "RESTAURANT",
    "STATIONERY",
]
EN_SHOP_SUFFIX = ["SDN BHD", "ENTERPRISE", "LTD", "PTE LTD", "(M) SDN BHD", "CO."]
EN_STREETS = [
    "JALAN BUKIT BINTANG",
    "JALAN AMPANG",
    "MAIN STREET",
    "HIGH STREET",
    "ORCHARD ROAD",
    "JALAN TUN RAZAK",
    "MARKET STREET",
    "KING STREET",
    "JALAN SULTAN ISMAIL",
    "VICTORIA ROAD",
]
EN_CITIES = [
    ("KUALA LUMPUR", "50450"),
    ("PETALING JAYA", "46100"),
    ("SHAH ALAM", "40000"),
    ("JOHOR BAHRU", "80000"),
    ("PENANG", "10200"),
    ("SINGAPORE", "238801"),
    ("IPOH", "30000"),
]
ZH_SHOP_TYPES = ["超市", "便利店", "生活超市", "餐厅", "咖啡馆", "书店", "水果店", "文具店", "烘焙坊"]

# Railway stations with pinyin, as printed on tickets.
STATIONS = [
    ("北京南", "Beijingnan"),
    ("上海虹桥", "Shanghaihongqiao"),
    ("杭州东", "Hangzhoudong"),
    ("南京南", "Nanjingnan"),
    ("广州南", "Guangzhounan"),
    ("深圳北", "Shenzhenbei"),
    ("武汉", "Wuhan"),
    ("长沙南", "Changshanan"),
    ("郑州东", "Zhengzhoudong"),
    ("西安北", "Xi'anbei"),
    ("成都东", "Chengdudong"),
    ("重庆北", "Chongqingbei"),
    ("济南西", "Jinanxi"),
    ("天津西", "Tianjinxi"),
    ("合肥南", "Hefeinan"),
    ("福州", "Fuzhou"),
    ("厦门北", "Xiamenbei"),
    ("宁波", "Ningbo"),
    ("苏州", "Suzhou"),
    ("无锡东", "Wuxidong"),
    ("青岛北", "Qingdaobei"),
    ("南昌西", "Nanchangxi"),
    ("昆明南", "Kunmingnan"),
    ("贵阳北", "Guiyangbei"),
]

BUSINESS_SCOPES = [
    "技术服务、技术开发、技术咨询、技术交流、技术转让、技术推广",
    "软件开发；信息系统集成服务；数据处理和存储支持服务",
    "计算机软硬件及辅助设备零售；电子产品销售；办公用品销售",
    "货物进出口；技术进出口；国内贸易代理",
    "餐饮服务；食品经营；酒类经营",
    "企业管理咨询；市场营销策划；会议及展览服务",
    "道路货物运输（不含危险货物）；国内货物运输代理；仓储服务",
    "建设工程施工；建筑劳务分包；住宅室内装饰装修",
    "广告设计、代理；广告制作；广告发布；图文设计制作",
    "日用百货销售；服装服饰零售；化妆品零售",
    "医疗器械经营；第二类医疗器械销售",
    "教育咨询服务（不含涉许可审批的教育培训活动）",
]
COMPANY_TYPES = [
    "有限责任公司(自然人投资或控股)",
    "有限责任公司(自然人独资)",
    "其他有限责任公司",
    "股份有限公司(非上市、自然人投资或控股)",
    "有限责任公司(法人独资)",
    "有限责任公司(港澳台法人独资)",
]


def person_name(rng: random.Random) -> str:
    surname = rng.choice(DOUBLE_SURNAMES) if rng.random() < 0.03 else rng.choice(SURNAMES)
    given = "".join(rng.choice(GIVEN_CHARS) for _ in range(1 if rng.random() < 0.35 else 2))
    return surname + given


def region(rng: random.Random) -> tuple[str, str, str]:
    """(province or municipality, city, district); city is empty for municipalities."""
    if rng.random() < 0.25:
        muni = rng.choice(sorted(MUNICIPALITIES))
        return muni, "", rng.choice(MUNICIPALITIES[muni])
    province = rng.choice(sorted(PROVINCES))
    city = rng.choice(sorted(PROVINCES[province]))
    return province, city, rng.choice(PROVINCES[province][city])


def address(rng: random.Random, with_province: bool = True) -> str:
    province, city, district = region(rng)
    road = rng.choice(ROADS)
    number = rng.randint(1, 999)
    tail = (
        f"{rng.choice(COMPANY_CORES)}{rng.choice(BUILDINGS)}{rng.randint(1, 28)}楼{rng.randint(1, 30):02d}室"
        if rng.random() < 0.5
        else ""
    )
    head = province + city if with_province else (city or province)
    return f"{head}{district}{road}{number}号{tail}"


def company_name(rng: random.Random, city_prefix: bool = True) -> str:
    province, city, _ = region(rng)
    place = (city or province)[:-1] if city_prefix else ""
    return f"{place}{rng.choice(COMPANY_CORES)}{rng.choice(INDUSTRIES)}{rng.choice(COMPANY_SUFFIXES)}"
