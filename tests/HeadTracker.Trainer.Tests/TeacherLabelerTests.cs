using System;
using System.IO;
using System.Linq;
using HeadTracking.Runtime.Detection;
using HeadTracking.Tests;
using HeadTracking.Trainer.Data;

namespace HeadTracking.Trainer.Tests;

public sealed class TeacherLabelerTests : IDisposable
{
    private readonly string _dir = Repo.NewTempDir("teacher");
    private readonly BlazeFaceDetector _detector = new(Repo.BlazeFaceFront);

    public void Dispose()
    {
        _detector.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void Labels_the_faces_in_real_photos_and_skips_a_corrupt_image_with_its_name()
    {
        string input = Path.Combine(_dir, "in");
        Directory.CreateDirectory(input);
        foreach (string photo in new[] { "sample2.jpg", "sample3.jpg" })
        {
            File.Copy(Repo.Fetched("faces/" + photo), Path.Combine(input, photo));
        }

        string corrupt = Path.Combine(input, "broken.jpg");
        File.WriteAllBytes(corrupt, [0xFF, 0xD8, 0xFF, 0x00, 0x01]);

        var skipped = new SkipReport();
        string output = Path.Combine(_dir, "out");
        (int images, int faces) = new TeacherLabeler(_detector).Run(input, output, skipped, strict: false);

        Assert.Equal(2, images);
        Assert.Equal(3, faces); // one in sample2, two in sample3
        Assert.Equal(1, skipped.Count);
        Assert.Contains(corrupt, skipped.First[0], StringComparison.Ordinal);
        var labels = LabelsFile.Read(Path.Combine(output, LabelsFile.FileName), new SkipReport(), strict: true);
        Assert.All(labels, l =>
        {
            Assert.Equal("teacher", l.Source);
            Assert.Equal(6, l.Keypoints!.Length);
            Assert.InRange(l.Score!.Value, 0.5, 1.0);
            Assert.True(File.Exists(Path.Combine(output, l.Image)));
            Assert.True(l.Keypoints[0][0] < l.Keypoints[1][0], "right eye left of left eye");
        });

        var e = Assert.Throws<InvalidDataException>(() => new TeacherLabeler(_detector).Run(input, Path.Combine(_dir, "strict"), new SkipReport(), strict: true));
        Assert.Contains(corrupt, e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "strict")), "a failed run leaves no output folder");
    }

    [Fact]
    public void Dense_teacher_labels_carry_landmarks_pose_and_centre_and_leave_out_faces_it_disagrees_with_itself_on()
    {
        using var dense = new Teachers.FaceMeshTeacher(Repo.Fetched(Path.Combine("face-landmarks", "facemesh.json")),
            Repo.Fetched(Path.Combine("facemesh", "geometry_pipeline_metadata_landmarks.binarypb")));
        var skipped = new SkipReport();
        string output = Path.Combine(_dir, "dense");
        (int images, int faces) = new TeacherLabeler(_detector, 0.5f, dense, maxDisagreement: 10).Run(Path.Combine(Repo.External, "faces"), output, skipped, strict: true);
        Assert.Equal(6, images);
        Assert.InRange(faces, 10, 20);
        // sample5's face turned about 50 degrees away: its mirror image gives another pose (measured 29 degrees).
        Assert.Contains(skipped.First, s => s.StartsWith("sample5.jpg face", StringComparison.Ordinal) && s.Contains("mirror image", StringComparison.Ordinal));
        var labels = LabelsFile.Read(Path.Combine(output, LabelsFile.FileName), new SkipReport(), strict: true);
        Assert.All(labels, l =>
        {
            Assert.Equal(468, l.Landmarks!.Length);
            Assert.InRange(l.TeacherDisagreement!.Value, 0, 10);
            double[] b = l.Box!;
            // Head centre and keypoints inside the face's box grown by half its size.
            double w = b[2] - b[0];
            Assert.InRange(l.Center![0], b[0] - (w / 2), b[2] + (w / 2));
            Assert.InRange(l.Center[1], b[1] - (w / 2), b[3] + (w / 2));
            Assert.All(l.Keypoints!, k => Assert.InRange(k[0], b[0] - (w / 2), b[2] + (w / 2)));
            Assert.True(l.Keypoints![0][0] < l.Keypoints[1][0], "right eye left of left eye");
            Assert.True(l.Keypoints[3][1] > l.Keypoints[2][1], "mouth below the nose tip");
            Assert.InRange(Math.Abs(l.Pose!.Yaw), 0, 70);
        });
    }

    [Fact]
    public void Labels_video_frames_and_writes_them_as_images()
    {
        string video = ExternalData.Find(Path.Combine("opencv-data", "Megamind.avi"));
        string output = Path.Combine(_dir, "video");
        (int images, int faces) = new TeacherLabeler(_detector).Run(video, output, new SkipReport(), strict: true, every: 30, maxFrames: 5);
        Assert.Equal(5, images);
        Assert.InRange(faces, 4, 10);
        Assert.Equal(5, Directory.GetFiles(output, "Megamind_*.jpg").Length);
        Assert.True(File.Exists(Path.Combine(output, "Megamind_000120.jpg")));
    }
}

public sealed class TeacherCropsTests : IDisposable
{
    private readonly string _dir = Repo.NewTempDir("crops");
    private readonly BlazeFaceDetector _detector = new(Repo.BlazeFaceFront, minScore: 0.3f);

    public void Dispose()
    {
        _detector.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void Crops_real_faces_with_the_teachers_own_labels_holds_out_whole_photos_and_repeats_for_a_seed()
    {
        var options = new TeacherCropOptions { PerFace = 12, Seed = 3 };
        string a = Path.Combine(_dir, "a"), b = Path.Combine(_dir, "b");
        TeacherCrops.Summary sum = new TeacherCrops(_detector, options).Run([Path.Combine(Repo.External, "faces")], a);
        new TeacherCrops(_detector, options).Run([Path.Combine(Repo.External, "faces")], b);

        Assert.Equal(6, sum.Photos);
        Assert.InRange(sum.Faces, 10, 20);
        Assert.Equal(sum.Faces * 12, sum.Written + sum.Dropped);
        Assert.True(sum.Written >= sum.Faces * 2, $"only {sum.Written} crops of {sum.Faces * 12} kept");
        Assert.Equal(File.ReadAllBytes(Path.Combine(a, LabelsFile.FileName)), File.ReadAllBytes(Path.Combine(b, LabelsFile.FileName)));

        var labels = LabelsFile.Read(Path.Combine(a, LabelsFile.FileName), new SkipReport(), strict: true);
        Assert.Equal(sum.Written, labels.Count);
        Assert.Equal(sum.ValidWritten, labels.Count(l => l.Split == "valid"));
        Assert.All(labels, l => Assert.Equal(l.Identity!.StartsWith("sample6.jpg#", StringComparison.Ordinal) ? "valid" : "train", l.Split));
        Assert.Contains(labels, l => l.Split == "train");
        Assert.Contains(labels, l => l.Split == "valid");

        // The labels are the teacher's on the stored image itself: run it again and find the same face.
        var found = new FaceDetections();
        foreach (HeadLabel l in labels.Take(20))
        {
            Assert.Equal("teacher", l.Source);
            using var image = OpenCvSharp.Cv2.ImRead(Path.Combine(a, l.Image));
            Assert.Equal((128, 128), (image.Width, image.Height));
            _detector.Detect(image, found);
            Assert.True(found.Count >= 1, $"{l.Image}: the teacher finds no face");
            double[] box = [.. found.Boxes.Take(4).Select(v => (double)v)];
            Assert.All(Enumerable.Range(0, 4), i => Assert.InRange(box[i], l.Box![i] - 0.02, l.Box[i] + 0.02));
            double width = l.Box![2] - l.Box[0];
            Assert.InRange(width / 128, 0.15, 0.8);
        }
    }

    [Fact]
    public void Dense_teacher_crops_carry_the_photos_label_through_each_warp_where_blazeface_finds_it_again()
    {
        using var dense = new Teachers.FaceMeshTeacher(Repo.Fetched(Path.Combine("face-landmarks", "facemesh.json")),
            Repo.Fetched(Path.Combine("facemesh", "geometry_pipeline_metadata_landmarks.binarypb")));
        var options = new TeacherCropOptions { PerFace = 6, Seed = 5 };
        string output = Path.Combine(_dir, "dense");
        TeacherCrops.Summary sum = new TeacherCrops(_detector, options, dense).Run([Path.Combine(Repo.External, "faces")], output);
        Assert.InRange(sum.Faces, 8, 20);
        Assert.InRange(sum.Unsure, 0, 3);
        var labels = LabelsFile.Read(Path.Combine(output, LabelsFile.FileName), new SkipReport(), strict: true);
        Assert.True(labels.Count >= sum.Faces, $"only {labels.Count} crops of {sum.Faces * 6} kept");
        var eyeErrors = new System.Collections.Generic.List<double>();
        var found = new FaceDetections();
        foreach (HeadLabel l in labels)
        {
            Assert.Equal(468, l.Landmarks!.Length);
            Assert.NotNull(l.Pose);
            Assert.Equal(4, l.Intrinsics!.Length);
            Assert.InRange(l.TeacherDisagreement!.Value, 0, 10);

            // The six keypoints are the means of their mesh vertices, in the crop as in the photo.
            double[] rightEye = [(l.Landmarks[33][0] + l.Landmarks[133][0]) / 2, (l.Landmarks[33][1] + l.Landmarks[133][1]) / 2];
            Assert.InRange(l.Keypoints![0][0], rightEye[0] - 0.2, rightEye[0] + 0.2);
            Assert.InRange(l.Keypoints[0][1], rightEye[1] - 0.2, rightEye[1] + 0.2);

            // Warped from the photo, the eyes land where BlazeFace, run on the crop, puts them
            // (BlazeFace's own eye points are coarse: within a fifth of the face's width).
            using var image = OpenCvSharp.Cv2.ImRead(Path.Combine(output, l.Image));
            _detector.Detect(image, found);
            double width = l.Box![2] - l.Box[0];
            double e = Math.Sqrt(Math.Pow(found.Keypoints[0] - l.Keypoints[0][0], 2) + Math.Pow(found.Keypoints[1] - l.Keypoints[0][1], 2)) / width;
            eyeErrors.Add(e);
        }

        eyeErrors.Sort();
        Assert.True(eyeErrors[eyeErrors.Count / 2] < 0.2, $"median right-eye distance to BlazeFace's on the crop: {eyeErrors[eyeErrors.Count / 2]:F3} face widths");
    }

    [Fact]
    public void A_crop_that_holds_a_neighbours_face_is_framed_tighter_instead_of_lost()
    {
        // sample6.jpg: four people side by side, so a wide crop around one often holds another.
        string[] photo = [Repo.Fetched("faces/sample6.jpg")];
        string tight = Path.Combine(_dir, "tight"), wide = Path.Combine(_dir, "wide");
        var options = new TeacherCropOptions { PerFace = 16, Seed = 7 };
        TeacherCrops.Summary sum = new TeacherCrops(_detector, options).Run(photo, tight);
        TeacherCrops.Summary without = new TeacherCrops(_detector, options with { TighterRetries = 0 }).Run(photo, wide);
        Assert.True(sum.Written >= without.Written + 4, $"{sum.Written} crops with tighter framings, {without.Written} without");

        // The first framing is the same either way; every crop kept holds one face.
        var labels = LabelsFile.Read(Path.Combine(tight, LabelsFile.FileName), new SkipReport(), strict: true);
        var first = LabelsFile.Read(Path.Combine(wide, LabelsFile.FileName), new SkipReport(), strict: true);
        Assert.All(first, l => Assert.Equal(File.ReadAllBytes(Path.Combine(wide, l.Image)), File.ReadAllBytes(Path.Combine(tight, l.Image))));
        var found = new FaceDetections();
        foreach (HeadLabel l in labels)
        {
            using var image = OpenCvSharp.Cv2.ImRead(Path.Combine(tight, l.Image));
            _detector.Detect(image, found);
            for (int d = 0; d < found.Count; d++)
            {
                double[] box = [.. found.Boxes.Skip(d * 4).Take(4).Select(v => (double)v)];
                bool apart = Math.Min(box[2], l.Box![2]) < Math.Max(box[0], l.Box[0]);
                Assert.False(apart && found.Scores[d] >= 0.5f, $"{l.Image}: a second face (score {found.Scores[d]:F2}) beside the labelled one");
            }
        }
    }

    [Fact]
    public void Names_a_missing_input_and_an_undecodable_photo_and_leaves_no_output()
    {
        string output = Path.Combine(_dir, "out");
        string missing = Path.Combine(_dir, "nowhere.jpg");
        var e = Assert.Throws<FileNotFoundException>(() => new TeacherCrops(_detector, new TeacherCropOptions()).Run([missing], output));
        Assert.Contains(missing, e.Message, StringComparison.Ordinal);

        string corrupt = Path.Combine(_dir, "broken.jpg");
        File.WriteAllBytes(corrupt, [0xFF, 0xD8, 0xFF, 0x00, 0x01]);
        var bad = Assert.Throws<InvalidDataException>(() => new TeacherCrops(_detector, new TeacherCropOptions()).Run([Repo.Fetched("faces/sample2.jpg"), corrupt], output));
        Assert.Contains(corrupt, bad.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(output), "a failed run leaves no output folder");
    }
}
