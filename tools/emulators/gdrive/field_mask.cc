#include "tools/emulators/gdrive/field_mask.h"

#include <sstream>
#include <vector>

namespace jsync::emulator::gdrive {
namespace {

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '*' || c == '.' ||
         c == '-';
}

// mask := item (',' item)* ; item := path ['(' mask ')'] ; path := name ('/' name)*
bool ParseList(const std::string& s, size_t* pos, FieldMask* out, std::string* bad, int depth) {
  if (depth > 8) {
    *bad = s;
    return false;
  }
  while (true) {
    while (*pos < s.size() && s[*pos] == ' ') ++*pos;
    std::vector<std::string> path;
    std::string name;
    while (*pos < s.size() && (IsNameChar(s[*pos]) || s[*pos] == '/')) {
      if (s[*pos] == '/') {
        if (name.empty()) break;
        path.push_back(name);
        name.clear();
      } else {
        name.push_back(s[*pos]);
      }
      ++*pos;
    }
    if (name.empty()) {
      *bad = s.substr(std::min(*pos, s.size()));
      if (bad->empty()) *bad = s;
      return false;
    }
    path.push_back(name);
    FieldMask* node = out;
    for (const auto& p : path) {
      if (p == "*" && &p == &path.back()) {
        node->all = true;
        break;
      }
      auto& child = node->children[p];
      if (!child) child = std::make_unique<FieldMask>();
      node = child.get();
    }
    while (*pos < s.size() && s[*pos] == ' ') ++*pos;
    if (*pos < s.size() && s[*pos] == '(') {
      ++*pos;
      if (!ParseList(s, pos, node, bad, depth + 1)) return false;
      if (*pos >= s.size() || s[*pos] != ')') {
        *bad = s;
        return false;
      }
      ++*pos;
    } else if (node != out && node->children.empty()) {
      node->all = true;
    }
    while (*pos < s.size() && s[*pos] == ' ') ++*pos;
    if (*pos < s.size() && s[*pos] == ',') {
      ++*pos;
      continue;
    }
    return true;
  }
}

Schema MakeOpen() {
  Schema s;
  s.open = true;
  return s;
}

const Schema kOpen = MakeOpen();
const Schema kLeaf;

Schema Members(const std::string& names, const std::map<std::string, const Schema*>& special) {
  Schema s;
  std::stringstream in(names);
  std::string n;
  while (std::getline(in, n, ',')) s.members[n] = &kLeaf;
  for (const auto& [k, v] : special) s.members[k] = v;
  return s;
}

}  // namespace

bool FieldMask::Parse(const std::string& text, FieldMask* out, std::string* bad) {
  size_t pos = 0;
  if (!ParseList(text, &pos, out, bad, 0)) return false;
  if (pos != text.size()) {
    *bad = text.substr(pos);
    return false;
  }
  return true;
}

nlohmann::json FieldMask::Apply(const nlohmann::json& value) const {
  if (all) return value;
  if (value.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& v : value) out.push_back(Apply(v));
    return out;
  }
  if (!value.is_object()) return value;
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, child] : children) {
    auto it = value.find(name);
    if (it == value.end()) continue;
    out[name] = child->Apply(*it);
  }
  return out;
}

const Schema& FileSchema() {
  static const Schema s = Members(
      "capabilities,contentHints,contentRestrictions,copyRequiresWriterPermission,createdTime,"
      "description,downloadRestrictions,driveId,explicitlyTrashed,exportLinks,fileExtension,"
      "folderColorRgb,fullFileExtension,hasAugmentedPermissions,hasThumbnail,headRevisionId,"
      "iconLink,id,imageMediaMetadata,inheritedPermissionsDisabled,isAppAuthorized,kind,"
      "labelInfo,lastModifyingUser,linkShareMetadata,md5Checksum,mimeType,modifiedByMe,"
      "modifiedByMeTime,modifiedTime,name,originalFilename,ownedByMe,owners,parents,"
      "permissionIds,permissions,quotaBytesUsed,resourceKey,sha1Checksum,sha256Checksum,shared,"
      "sharedWithMeTime,sharingUser,shortcutDetails,size,spaces,starred,teamDriveId,"
      "thumbnailLink,thumbnailVersion,trashed,trashedTime,trashingUser,version,"
      "videoMediaMetadata,viewedByMe,viewedByMeTime,viewersCanCopyContent,webContentLink,"
      "webViewLink,writersCanShare",
      {{"appProperties", &kOpen},
       {"properties", &kOpen},
       {"capabilities", &kOpen},
       {"contentHints", &kOpen},
       {"imageMediaMetadata", &kOpen},
       {"videoMediaMetadata", &kOpen},
       {"owners", &kOpen},
       {"lastModifyingUser", &kOpen},
       {"permissions", &kOpen},
       {"shortcutDetails", &kOpen},
       {"labelInfo", &kOpen}});
  return s;
}

const Schema& FileListSchema() {
  static const Schema s =
      Members("incompleteSearch,kind,nextPageToken", {{"files", &FileSchema()}});
  return s;
}

const Schema& ChangeListSchema() {
  static const Schema change = Members(
      "changeType,driveId,fileId,kind,removed,teamDriveId,time,type",
      {{"file", &FileSchema()}, {"drive", &kOpen}, {"teamDrive", &kOpen}});
  static const Schema s =
      Members("kind,newStartPageToken,nextPageToken", {{"changes", &change}});
  return s;
}

const Schema& AboutSchema() {
  static const Schema quota = Members("limit,usage,usageInDrive,usageInDriveTrash", {});
  static const Schema user = Members("displayName,emailAddress,kind,me,permissionId,photoLink", {});
  static const Schema s = Members(
      "appInstalled,canCreateDrives,canCreateTeamDrives,driveThemes,exportFormats,"
      "folderColorPalette,importFormats,kind,maxImportSizes,maxUploadSize,teamDriveThemes",
      {{"storageQuota", &quota}, {"user", &user}, {"exportFormats", &kOpen},
       {"importFormats", &kOpen}, {"maxImportSizes", &kOpen}});
  return s;
}

const Schema& GeneratedIdsSchema() {
  static const Schema s = Members("ids,kind,space", {});
  return s;
}

const Schema& StartPageTokenSchema() {
  static const Schema s = Members("kind,startPageToken", {});
  return s;
}

const Schema& ChannelSchema() {
  static const Schema s = Members(
      "address,expiration,id,kind,payload,resourceId,resourceUri,token,type",
      {{"params", &kOpen}});
  return s;
}

std::string UnknownField(const FieldMask& mask, const Schema& schema, const std::string& prefix) {
  if (schema.open) return "";
  for (const auto& [name, child] : mask.children) {
    auto it = schema.members.find(name);
    if (it == schema.members.end()) return prefix + name;
    if (!child->children.empty()) {
      if (it->second == &kLeaf) return prefix + name + "(" + child->children.begin()->first + ")";
      const std::string bad = UnknownField(*child, *it->second, prefix + name + "/");
      if (!bad.empty()) return bad;
    }
  }
  return "";
}

}  // namespace jsync::emulator::gdrive
