using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Linq;
using OpenCvSharp;

namespace HeadTracking.Trainer.Data.Loaders;

/// <summary>
/// Readers for the data layouts users already have. Each returns a <see cref="Dataset"/>; a bad
/// line or a missing file is skipped and counted (the first few named) unless strict, when it
/// throws naming the file and line.
/// </summary>
internal static class Loaders
{
    private static readonly string[] s_imageExtensions = [".jpg", ".jpeg", ".png", ".bmp"];

    /// <summary>root/CLASS/*.jpg, or root/train/CLASS/*.jpg and root/valid/CLASS/*.jpg. With
    /// <paramref name="labelRegex"/> (fastai's RegexLabeller), every image under root (or under
    /// root/train and root/valid) is labelled by the regex's first group (or its group named
    /// "label") on its file name, e.g. "(.+)_\d+.jpg$" for Oxford pets' "great_pyrenees_12.jpg".</summary>
    /// <exception cref="ArgumentException">The regex does not parse or has no group.</exception>
    public static Dataset FolderPerClass(string root, bool strict = false, string? labelRegex = null)
    {
        RequireDirectory(root);
        var items = new List<DataItem>();
        var skipped = new SkipReport();
        System.Text.RegularExpressions.Regex? regex = labelRegex == null ? null : LabelRegex(labelRegex);
        string[] splitDirs = [.. new[] { "train", "valid" }.Where(s => Directory.Exists(Path.Combine(root, s)))];
        IEnumerable<(string Dir, string? Split)> parts = splitDirs.Length > 0 ? splitDirs.Select(s => (Path.Combine(root, s), (string?)s)) : [(root, null)];
        foreach ((string dir, string? split) in parts)
        {
            if (regex != null)
            {
                foreach (string file in Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Where(IsImage).Order(StringComparer.Ordinal))
                {
                    System.Text.RegularExpressions.Match m = regex.Match(Path.GetFileName(file));
                    System.Text.RegularExpressions.Group g = m.Groups["label"].Success ? m.Groups["label"] : m.Groups[1];
                    if (!m.Success || !g.Success || g.Value.Length == 0)
                    {
                        Fail(strict, skipped, $"{file}: --label-regex '{labelRegex}' does not match its name");
                        continue;
                    }

                    items.Add(new DataItem(new HeadLabel { Image = file, Source = "import", Split = split, Classes = [g.Value] }, file));
                }

                continue;
            }

            foreach (string classDir in Directory.GetDirectories(dir).Order(StringComparer.Ordinal))
            {
                string cls = Path.GetFileName(classDir);
                foreach (string file in Images(classDir))
                {
                    // No identity: a random split holds out images, never whole classes.
                    items.Add(new DataItem(new HeadLabel { Image = file, Source = "import", Split = split, Classes = [cls] }, file));
                }
            }
        }

        if (items.Count == 0)
        {
            Fail(strict, skipped, regex == null ? $"{root}: no class folders with images" : $"{root}: no image whose name --label-regex '{labelRegex}' matches");
        }

        return new Dataset(root, items, [.. items.Select(i => i.Label.Classes![0]).Distinct().Order(StringComparer.Ordinal)], skipped);
    }

    private static System.Text.RegularExpressions.Regex LabelRegex(string pattern)
    {
        System.Text.RegularExpressions.Regex regex;
        try
        {
            regex = new System.Text.RegularExpressions.Regex(pattern, System.Text.RegularExpressions.RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"option --label-regex: '{pattern}' is not a regular expression: {e.Message}", e);
        }

        if (regex.GetGroupNumbers().Length < 2)
        {
            throw new ArgumentException($"option --label-regex: '{pattern}' has no group: put the label in parentheses, e.g. '(.+)_\\d+.jpg$'");
        }

        return regex;
    }

    /// <summary>A CSV of image names and labels (fastai's PASCAL style: "fname,labels,is_valid",
    /// several labels separated by spaces), and optionally continuous targets in
    /// <paramref name="valueColumns"/> (the age of the age + gender example). Without a labels
    /// column, value columns alone make a regression data set.</summary>
    public static Dataset LabelCsv(string csv, string imageDir, string imageColumn = "fname", string labelColumn = "labels", string? validColumn = "is_valid", char labelSeparator = ' ', bool strict = false, IReadOnlyList<string>? valueColumns = null)
    {
        var skipped = new SkipReport();
        var items = new List<DataItem>();
        string[] values = [.. valueColumns ?? []];
        bool hasLabels = values.Length == 0 || Header(csv).Contains(labelColumn);
        foreach ((int line, Dictionary<string, string> row) in Csv(csv, [imageColumn, .. hasLabels ? new[] { labelColumn } : [], .. values]))
        {
            string file = Path.Combine(imageDir, row[imageColumn]);
            string[] labels = hasLabels ? row[labelColumn].Split(labelSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [];
            double[]? numbers = values.Length > 0 ? Doubles([.. values.Select(v => row[v])]) : null;
            string? problem = !File.Exists(file) ? $"image {file} not found"
                : hasLabels && labels.Length == 0 ? "no labels"
                : values.Length > 0 && numbers == null ? $"a value in {string.Join(", ", values)} is not a number"
                : null;
            if (problem != null)
            {
                Fail(strict, skipped, $"{csv}:{line}: {problem}");
                continue;
            }

            string? split = validColumn != null && row.TryGetValue(validColumn, out string? v) && IsTrue(v) ? "valid" : validColumn != null && row.ContainsKey(validColumn) ? "train" : null;
            items.Add(new DataItem(new HeadLabel { Image = file, Source = "import", Classes = hasLabels ? labels : null, Values = numbers, Split = split }, file));
        }

        return new Dataset(csv, items, [.. items.SelectMany(i => i.Label.Classes ?? []).Distinct().Order(StringComparer.Ordinal)], skipped) { ValueNames = values };
    }

    /// <summary>
    /// Biwi Kinect head pose: root/NN/frame_XXXXX_rgb.jpg with frame_XXXXX_pose.txt (a 3x3
    /// rotation, then the head centre in mm) and root/NN/rgb.cal (the RGB camera's 3x3 intrinsics
    /// first). The head centre is projected with the intrinsics, as in fastai's Biwi example;
    /// the identity is the person folder, for holding out whole people.
    /// </summary>
    public static Dataset Biwi(string root, bool strict = false)
    {
        RequireDirectory(root);
        var skipped = new SkipReport();
        var items = new List<DataItem>();
        foreach (string person in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
        {
            string cal = Path.Combine(person, "rgb.cal");
            double[]? k = null;
            if (File.Exists(cal))
            {
                double[][] rows = Numbers(cal, 3);
                k = rows.Length == 3 && rows.All(r => r.Length >= 3) ? [rows[0][0], rows[1][1], rows[0][2], rows[1][2]] : null;
            }

            if (k == null)
            {
                Fail(strict, skipped, $"{cal}: missing or not a 3x3 intrinsic matrix");
                continue;
            }

            foreach (string image in Directory.GetFiles(person, "frame_*_rgb.jpg").Order(StringComparer.Ordinal))
            {
                string poseFile = image.Replace("_rgb.jpg", "_pose.txt", StringComparison.Ordinal);
                double[][] pose = File.Exists(poseFile) ? Numbers(poseFile, 4) : [];
                if (pose.Length != 4 || pose.Any(r => r.Length < 3) || pose[3][2] <= 0)
                {
                    Fail(strict, skipped, $"{poseFile}: missing, or not a 3x3 rotation and a centre with z > 0");
                    continue;
                }

                double[] c = pose[3];
                double u = (c[0] * k[0] / c[2]) + k[2], v = (c[1] * k[1] / c[2]) + k[3];
                items.Add(new DataItem(new HeadLabel
                {
                    Image = image, Width = 640, Height = 480, Source = "import", Identity = Path.GetFileName(person),
                    Center = [u, v], CenterNorm = [(2 * u / 640) - 1, (2 * v / 480) - 1], Intrinsics = k,
                }, image));
            }
        }

        return new Dataset(root, items, [], skipped);
    }

    /// <summary>A points CSV: the image column, then NAME_x, NAME_y column pairs in pixels.</summary>
    public static Dataset PointsCsv(string csv, string imageDir, string imageColumn = "image", bool strict = false)
    {
        var skipped = new SkipReport();
        var items = new List<DataItem>();
        string[] header = Header(csv);
        string[] names = [.. header.Where(h => h.EndsWith("_x", StringComparison.Ordinal) && header.Contains(h[..^2] + "_y")).Select(h => h[..^2])];
        if (names.Length == 0)
        {
            throw new InvalidDataException($"{csv}: no NAME_x, NAME_y column pairs in the header");
        }

        foreach ((int line, Dictionary<string, string> row) in Csv(csv, [imageColumn, .. names.SelectMany(n => new[] { n + "_x", n + "_y" })]))
        {
            string file = Path.Combine(imageDir, row[imageColumn]);
            double[][]? points = ParsePoints(row, names);
            if (points == null || !File.Exists(file))
            {
                Fail(strict, skipped, $"{csv}:{line}: {(points == null ? "a coordinate is not a number" : $"image {file} not found")}");
                continue;
            }

            if (Size(file, $"{csv}:{line}", strict, skipped) is not (int w, int h))
            {
                continue;
            }

            var label = new HeadLabel { Image = file, Width = w, Height = h, Source = "import", Keypoints = points, KeypointNames = names };
            if (LabelsFile.Check(label) is { } problem)
            {
                Fail(strict, skipped, $"{csv}:{line}: {problem}");
                continue;
            }

            items.Add(new DataItem(label, file));
        }

        return new Dataset(csv, items, [], skipped);
    }

    /// <summary>A box CSV, one box a row: image_id, x_min, x_max, y_min, y_max (normalised to
    /// [0, 1]), class_name, folder (the image's folder under <paramref name="root"/>).</summary>
    public static Dataset BoxCsv(string csv, string root, bool strict = false)
    {
        var skipped = new SkipReport();
        var items = new List<DataItem>();
        string[] columns = ["image_id", "x_min", "x_max", "y_min", "y_max", "class_name", "folder"];
        foreach ((int line, Dictionary<string, string> row) in Csv(csv, columns))
        {
            string dir = Path.Combine(root, row["folder"]);
            string? file = new[] { "", ".jpg", ".png" }.Select(e => Path.Combine(dir, row["image_id"] + e)).FirstOrDefault(File.Exists);
            double[]? v = Doubles(row["x_min"], row["x_max"], row["y_min"], row["y_max"]);
            if (file == null || v == null || v.Any(x => x < 0 || x > 1) || v[1] <= v[0] || v[3] <= v[2])
            {
                Fail(strict, skipped, $"{csv}:{line}: {(file == null ? $"image {row["image_id"]} not found in {dir}" : "corners not in [0, 1] or empty")}");
                continue;
            }

            if (Size(file, $"{csv}:{line}", strict, skipped) is not (int w, int h))
            {
                continue;
            }

            items.Add(new DataItem(new HeadLabel
            {
                Image = file, Width = w, Height = h, Source = "import", Classes = [row["class_name"]], Identity = $"{row["image_id"]}#{line}",
                Box = [v[0] * w, v[2] * h, v[1] * w, v[3] * h],
            }, file));
        }

        return new Dataset(csv, items, [.. items.Select(i => i.Label.Classes![0]).Distinct().Order(StringComparer.Ordinal)], skipped);
    }

    /// <summary>CamVid-style segmentation: root/images/NAME.png, root/labels/NAME_P.png holding a
    /// class code per pixel, root/codes.txt naming the codes, one per line.</summary>
    public static Dataset Segmentation(string root, bool strict = false)
    {
        string images = Path.Combine(root, "images"), labels = Path.Combine(root, "labels"), codesFile = Path.Combine(root, "codes.txt");
        RequireDirectory(images);
        RequireDirectory(labels);
        if (!File.Exists(codesFile))
        {
            throw new FileNotFoundException($"{codesFile} not found: it names the class of each mask value", codesFile);
        }

        string[] codes = [.. File.ReadAllLines(codesFile).Select(l => l.Trim()).Where(l => l.Length > 0)];
        if (codes.Length < 2 || codes.Length > 254)
        {
            throw new InvalidDataException($"{codesFile}: {codes.Length} codes; a segmentation needs 2 to 254 (mask value 255 means 'not labelled')");
        }

        // CamVid's valid.txt names the validation images; without it the split is the trainer's.
        string validFile = Path.Combine(root, "valid.txt");
        HashSet<string>? validNames = File.Exists(validFile) ? [.. File.ReadAllLines(validFile).Select(l => Path.GetFileName(l.Trim())).Where(l => l.Length > 0)] : null;
        var skipped = new SkipReport();
        var items = new List<DataItem>();
        foreach (string image in Images(images))
        {
            string mask = Path.Combine(labels, Path.GetFileNameWithoutExtension(image) + "_P.png");
            if (!File.Exists(mask))
            {
                Fail(strict, skipped, $"{image}: no mask {mask}");
                continue;
            }

            if (Size(image, image, strict, skipped) is not (int w, int h))
            {
                continue;
            }

            string? split = validNames == null ? null : validNames.Contains(Path.GetFileName(image)) ? "valid" : "train";
            items.Add(new DataItem(new HeadLabel { Image = image, Width = w, Height = h, Source = "import", Mask = mask, Split = split }, image));
        }

        return new Dataset(root, items, [], skipped) { MaskCodes = codes };
    }

    /// <summary>A folder of idx files as Debian's dataset-fashion-mnist ships them:
    /// train-images-idx3-ubyte(.gz) and train-labels-idx1-ubyte(.gz) for training,
    /// t10k-images-idx3-ubyte(.gz) and t10k-labels-idx1-ubyte(.gz) as the valid split.</summary>
    public static Dataset IdxFolder(string root, IReadOnlyList<string> classNames)
    {
        RequireDirectory(root);
        string Find(string stem) =>
            new[] { stem + ".gz", stem }.Select(n => Path.Combine(root, n)).FirstOrDefault(File.Exists)
            ?? throw new FileNotFoundException($"{root}: no {stem} or {stem}.gz", Path.Combine(root, stem));
        Dataset train = Idx(Find("train-images-idx3-ubyte"), Find("train-labels-idx1-ubyte"), classNames, "train");
        Dataset valid = Idx(Find("t10k-images-idx3-ubyte"), Find("t10k-labels-idx1-ubyte"), classNames, "valid");
        return new Dataset(root, [.. train.Items, .. valid.Items], classNames, new SkipReport());
    }

    /// <summary>Fashion-MNIST (or MNIST) idx files: images (idx3, 28x28 bytes) and labels (idx1),
    /// optionally gzipped.</summary>
    public static Dataset Idx(string imagesFile, string labelsFile, IReadOnlyList<string> classNames, string split = "train")
    {
        byte[] images = ReadMaybeGzip(imagesFile), labels = ReadMaybeGzip(labelsFile);
        int Int(byte[] b, int o) => (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
        if (images.Length < 16 || Int(images, 0) != 0x803)
        {
            throw new InvalidDataException($"{imagesFile}: not an idx3 image file (magic {(images.Length >= 4 ? Int(images, 0) : 0):X})");
        }

        if (labels.Length < 8 || Int(labels, 0) != 0x801)
        {
            throw new InvalidDataException($"{labelsFile}: not an idx1 label file");
        }

        int n = Int(images, 4), rows = Int(images, 8), cols = Int(images, 12);
        if (Int(labels, 4) != n || images.Length != 16 + (n * rows * cols) || labels.Length != 8 + n)
        {
            throw new InvalidDataException($"{imagesFile}, {labelsFile}: counts or sizes disagree ({n} images of {rows}x{cols}, {Int(labels, 4)} labels)");
        }

        var items = new List<DataItem>(n);
        for (int i = 0; i < n; i++)
        {
            int label = labels[8 + i];
            if (label >= classNames.Count)
            {
                throw new InvalidDataException($"{labelsFile}: item {i} has label {label}, but only {classNames.Count} class names were given");
            }

            int offset = 16 + (i * rows * cols);
            items.Add(new DataItem(
                new HeadLabel { Image = $"{Path.GetFileName(imagesFile)}#{i}", Width = cols, Height = rows, Source = "import", Classes = [classNames[label]], Split = split },
                null,
                () =>
                {
                    using var grey = new Mat(rows, cols, MatType.CV_8UC1);
                    System.Runtime.InteropServices.Marshal.Copy(images, offset, grey.Data, rows * cols);
                    var bgr = new Mat();
                    Cv2.CvtColor(grey, bgr, ColorConversionCodes.GRAY2BGR);
                    return bgr;
                }));
        }

        return new Dataset(imagesFile, items, classNames, new SkipReport());
    }

    /// <summary>Our own labels.jsonl; image and mask paths are relative to its folder.</summary>
    public static Dataset Jsonl(string path, bool strict = false)
    {
        var skipped = new SkipReport();
        string dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var items = new List<DataItem>();
        foreach (HeadLabel l in LabelsFile.Read(path, skipped, strict))
        {
            string image = Path.Combine(dir, l.Image);
            if (!File.Exists(image))
            {
                Fail(strict, skipped, $"{path}: image {image} not found");
                continue;
            }

            items.Add(new DataItem(l with { Mask = l.Mask == null ? null : Path.Combine(dir, l.Mask) }, image));
        }

        return new Dataset(path, items, [.. items.SelectMany(i => i.Label.Classes ?? []).Distinct().Order(StringComparer.Ordinal)], skipped);
    }

    private static void Fail(bool strict, SkipReport skipped, string why)
    {
        if (strict)
        {
            throw new InvalidDataException(why);
        }

        skipped.Add(why);
    }

    private static void RequireDirectory(string dir)
    {
        if (!Directory.Exists(dir))
        {
            throw new DirectoryNotFoundException($"folder not found: {dir}");
        }
    }

    private static bool IsImage(string file) => s_imageExtensions.Contains(Path.GetExtension(file).ToLowerInvariant());

    private static IEnumerable<string> Images(string dir) => Directory.GetFiles(dir).Where(IsImage).Order(StringComparer.Ordinal);

    private static string[] Header(string csv)
    {
        if (!File.Exists(csv))
        {
            throw new FileNotFoundException($"CSV file not found: {csv}", csv);
        }

        string? first = File.ReadLines(csv).FirstOrDefault();
        return first == null ? [] : [.. first.Split(',').Select(h => h.Trim())];
    }

    /// <summary>Rows as column → value, with their line numbers. Simple CSV: no quoted commas.</summary>
    /// <exception cref="InvalidDataException">A required column is missing from the header.</exception>
    private static IEnumerable<(int Line, Dictionary<string, string> Row)> Csv(string csv, IReadOnlyList<string> required)
    {
        string[] header = Header(csv);
        foreach (string column in required)
        {
            if (!header.Contains(column))
            {
                throw new InvalidDataException($"{csv}: no column '{column}' in the header ({string.Join(",", header)})");
            }
        }

        int line = 0;
        foreach (string text in File.ReadLines(csv))
        {
            if (++line == 1 || string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            string[] cells = text.Split(',');
            var row = new Dictionary<string, string>(StringComparer.Ordinal);
            for (int i = 0; i < header.Length; i++)
            {
                row[header[i]] = i < cells.Length ? cells[i].Trim() : "";
            }

            yield return (line, row);
        }
    }

    private static double[]? Doubles(params string[] cells)
    {
        var values = new double[cells.Length];
        for (int i = 0; i < cells.Length; i++)
        {
            if (!double.TryParse(cells[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !double.IsFinite(values[i]))
            {
                return null;
            }
        }

        return values;
    }

    private static double[][]? ParsePoints(Dictionary<string, string> row, string[] names)
    {
        var points = new double[names.Length][];
        for (int i = 0; i < names.Length; i++)
        {
            double[]? xy = Doubles(row[names[i] + "_x"], row[names[i] + "_y"]);
            if (xy == null)
            {
                return null;
            }

            points[i] = [xy[0], xy[1], 1];
        }

        return points;
    }

    /// <summary>The first <paramref name="rows"/> non-empty lines of numbers separated by spaces;
    /// empty when one is not numbers (the caller reports it).</summary>
    private static double[][] Numbers(string path, int rows)
    {
        var result = new List<double[]>();
        foreach (string line in File.ReadLines(path).Where(l => !string.IsNullOrWhiteSpace(l)).Take(rows))
        {
            double[]? values = Doubles(line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries));
            if (values == null)
            {
                return [];
            }

            result.Add(values);
        }

        return [.. result];
    }

    /// <summary>The image's size, or null (skipped, or thrown in strict mode) when it will not decode.</summary>
    private static (int Width, int Height)? Size(string file, string where, bool strict, SkipReport skipped)
    {
        using Mat image = Cv2.ImRead(file, ImreadModes.Unchanged);
        if (image.Empty())
        {
            Fail(strict, skipped, $"{where}: {file} is not an image OpenCV can decode");
            return null;
        }

        return (image.Width, image.Height);
    }

    private static bool IsTrue(string v) => v.Equals("true", StringComparison.OrdinalIgnoreCase) || v == "1";

    private static byte[] ReadMaybeGzip(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"idx file not found: {path}", path);
        }

        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length > 2 && bytes[0] == 0x1f && bytes[1] == 0x8b)
        {
            using var gz = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
            using var output = new MemoryStream();
            gz.CopyTo(output);
            return output.ToArray();
        }

        return bytes;
    }
}
